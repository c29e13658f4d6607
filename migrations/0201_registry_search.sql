-- Search by initials or exact name returns the first page in id order: with the id in the index
-- the page comes straight from the index instead of sorting every match.
CREATE INDEX persons_initials_id ON persons (name_initials, id);
CREATE INDEX persons_name_id ON persons (name, id);
DROP INDEX persons_name_initials;
