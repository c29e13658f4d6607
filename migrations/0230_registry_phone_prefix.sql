-- A phone search by its first digits (`q=1381`) is a prefix LIKE, which a plain index on a column of
-- the database's collation cannot serve (only the "C" collation or text_pattern_ops can): at
-- 1,000,000 persons a rare prefix read the whole table (240 ms). The same index, in pattern order,
-- serves both the equality of a full number and the prefix; the index count stays the same.
DROP INDEX persons_phone;
CREATE INDEX persons_phone ON persons (phone text_pattern_ops) WHERE phone IS NOT NULL;
