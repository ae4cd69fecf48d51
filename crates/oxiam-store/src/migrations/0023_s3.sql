-- The S3 endpoint's metadata, shared by every server on the database: buckets, every
-- version of every object (delete markers included), multipart uploads and their parts.
-- The bytes are files in the S3 object directory, each named by its `blob` (a random id,
-- never reused and never changed once written): a row is written only after its file is
-- whole and synced, so a row never names a partial file; a file no row names is garbage,
-- invisible to every request. Bucket and object rows are not tied to `accounts` by a
-- foreign key: a bucket name is global, and test mode's reset removes them with the
-- objects' files (oxiam-s3). Times are Unix milliseconds here, as S3 reports them.
-- Conventions otherwise as in 0001.

CREATE TABLE s3_buckets (
    name          TEXT PRIMARY KEY,
    owner_account TEXT NOT NULL,
    region        TEXT NOT NULL,
    created_ms    BIGINT NOT NULL,
    -- The bucket policy, as the owner put it.
    policy        TEXT,
    -- '' (never versioned), 'Enabled' or 'Suspended'.
    versioning    TEXT NOT NULL DEFAULT '',
    -- The bucket's tag set as JSON ([[key, value], …]); NULL when none is set.
    tags          TEXT
);

CREATE INDEX s3_buckets_owner ON s3_buckets (owner_account, name);

CREATE TABLE s3_objects (
    bucket        TEXT NOT NULL,
    object_key    SORT_KEY NOT NULL,
    -- 'null' for the version a bucket without versioning (or suspended) writes.
    version_id    TEXT NOT NULL,
    -- The versions of one key in the order they were written: higher is newer.
    seq           BIGINT NOT NULL,
    -- 1 for the key's current version (at most one per key), else 0.
    is_latest     BIGINT NOT NULL,
    delete_marker BIGINT NOT NULL,
    size          BIGINT NOT NULL,
    etag          TEXT NOT NULL,
    modified_ms   BIGINT NOT NULL,
    owner_account TEXT NOT NULL,
    -- The file holding the bytes; NULL for a delete marker.
    blob          TEXT,
    -- Content headers, user metadata and checksums, as oxiam-s3 writes them (JSON).
    attributes    TEXT NOT NULL,
    -- The object's tag set as JSON ([[key, value], …]).
    tags          TEXT NOT NULL,
    PRIMARY KEY (bucket, object_key, version_id)
);

CREATE INDEX s3_objects_listing ON s3_objects (bucket, is_latest, object_key);
CREATE INDEX s3_objects_versions ON s3_objects (bucket, object_key, seq);

CREATE TABLE s3_uploads (
    -- Compared in listings (ListMultipartUploads' upload id marker), so byte by byte.
    upload_id     SORT_KEY PRIMARY KEY,
    bucket        TEXT NOT NULL,
    object_key    SORT_KEY NOT NULL,
    initiated_ms  BIGINT NOT NULL,
    owner_account TEXT NOT NULL,
    -- The ARN of the principal that started the upload (ListMultipartUploads' Initiator).
    initiator     TEXT NOT NULL,
    attributes    TEXT NOT NULL,
    tags          TEXT NOT NULL
);

CREATE INDEX s3_uploads_listing ON s3_uploads (bucket, object_key, initiated_ms);

CREATE TABLE s3_parts (
    upload_id     TEXT NOT NULL,
    part_number   BIGINT NOT NULL,
    size          BIGINT NOT NULL,
    etag          TEXT NOT NULL,
    modified_ms   BIGINT NOT NULL,
    blob          TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
