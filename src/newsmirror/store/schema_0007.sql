-- newsmirror store, migration 7: imported archives kept byte for byte.

-- How an imported file lays out its fields (publish/markdown.py FileForm, as JSON);
-- '' for newsmirror's own layout, which every fetched version has.
ALTER TABLE versions ADD COLUMN file_form TEXT NOT NULL DEFAULT '';

-- Articles sharing their source and file id with earlier ones (two files of one id in an
-- imported archive): 0 for the first, 1 for the second... Each has a site page of its own.
ALTER TABLE articles ADD COLUMN twin INTEGER NOT NULL DEFAULT 0;
UPDATE articles SET twin = (SELECT COUNT(*) FROM articles b WHERE b.source = articles.source
    AND b.archive_id = articles.archive_id AND b.id < articles.id);

-- The lists and README of an imported archive as they were, to be continued in their own
-- dialect: entries for articles with a version stored after imported_at go in front (or
-- in their own entry's place), every other byte stays.
CREATE TABLE archive_files (
    path TEXT PRIMARY KEY,                 -- "lists/BBC.md", "README.md"
    kind TEXT NOT NULL,                    -- 'list' or 'readme'
    source TEXT NOT NULL DEFAULT '',       -- the source a list (or a CDT README) lists
    style TEXT NOT NULL,                   -- 'current', '2020', '2020-undated', 'cdt-readme', or 'kept'
    text TEXT NOT NULL,                    -- the file as imported
    imported_at TEXT NOT NULL              -- ISO time of the import (versions.fetched_at after it are new)
);
