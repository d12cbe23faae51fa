-- newsmirror store, migration 6: what each static site folder holds, in two numbers.

-- Every version up to version_mark and every visit up to visit_mark is shown on the
-- site in this folder: an incremental publish looks only at what came after.
CREATE TABLE site_marks (
    site TEXT PRIMARY KEY,                 -- the folder's key ("site:<folder>/")
    version_mark INTEGER NOT NULL,         -- versions.id
    visit_mark INTEGER NOT NULL            -- visits.id
);
-- Articles by their latest version (those changed since a mark).
CREATE INDEX articles_by_latest ON articles (latest_version);
