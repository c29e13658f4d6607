-- Demo accounts (known passwords, created by `serve --demo`) sign in only while the server runs as
-- the demo; a data folder later served without --demo cannot be entered with them.
ALTER TABLE users ADD COLUMN demo boolean NOT NULL DEFAULT false;
