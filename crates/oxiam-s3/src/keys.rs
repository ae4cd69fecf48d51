//! What the object store (s3s-fs) can keep, checked before anything is written.
//!
//! s3s-fs keeps an object as the file `BUCKET/KEY` (each `/` of the key a directory) and
//! its metadata in side files whose names carry the bucket and key in base64. So a key it
//! cannot keep faithfully used to be written in part and then answered with a 500: a key
//! whose side-file name passes the 255-byte file-name limit, a key that is also the folder
//! of other keys (or under one that is an object), a folder marker (`photos/`), two keys
//! that name one path (`a//b`, `a/./b`). Those are refused here instead, with S3's error
//! for a key it will not take, and docs/differences.md says which; reads of a folder find
//! no object.

use std::io;
use std::path::Path;

use s3s::{S3Error, S3ErrorCode, S3Result};

use crate::errors;

/// Linux's limit on one file name (NAME_MAX).
const NAME_MAX: usize = 255;

/// The fixed parts of s3s-fs's side-file names: `.bucket-`, `.object-`, the longer of
/// `.metadata.json` and `.internal.json`, and an upload's `.upload-UUID`.
const SIDE_FILE_FIXED: usize = ".bucket-".len() + ".object-".len() + ".metadata.json".len();
const UPLOAD_SUFFIX: usize = ".upload-".len() + 36;

fn base64_len(bytes: usize) -> usize {
    (bytes * 4).div_ceil(3)
}

fn refused(code: S3ErrorCode, message: String) -> S3Error {
    let mut e = errors::with_message(code, message);
    e.set_status_code(http::StatusCode::BAD_REQUEST);
    e
}

/// Whether `key` can be written to `bucket` (a multipart upload's side files are longer).
pub fn check_storable(bucket: &str, key: &str, multipart: bool) -> S3Result<()> {
    let side_file =
        SIDE_FILE_FIXED + base64_len(bucket.len()) + base64_len(key.len()) + if multipart { UPLOAD_SUFFIX } else { 0 };
    let longest_segment = key.split('/').map(str::len).max().unwrap_or(0);
    if longest_segment > NAME_MAX {
        return Err(refused(
            S3ErrorCode::KeyTooLongError,
            format!(
                "Your key is too long for oxiam's object store: it keeps at most {NAME_MAX} bytes between two slashes."
            ),
        ));
    }
    if side_file > NAME_MAX {
        let room = NAME_MAX - SIDE_FILE_FIXED - base64_len(bucket.len()) - if multipart { UPLOAD_SUFFIX } else { 0 };
        return Err(refused(
            S3ErrorCode::KeyTooLongError,
            format!(
                "Your key is too long for oxiam's object store: in this bucket it keeps keys of up to {} bytes{}.",
                room * 3 / 4,
                if multipart { " for a multipart upload" } else { "" }
            ),
        ));
    }
    if key.ends_with('/') {
        return Err(refused(
            S3ErrorCode::InvalidArgument,
            format!("oxiam's object store cannot keep a key ending in / (a folder marker): {key}"),
        ));
    }
    if key.split('/').any(|segment| segment.is_empty() || segment == ".") {
        return Err(refused(
            S3ErrorCode::InvalidArgument,
            format!("oxiam's object store cannot keep a key with an empty or \".\" segment: {key}"),
        ));
    }
    Ok(())
}

/// Whether writing `key` under the bucket's directory `bucket_dir` would put an object
/// where a folder of other keys is, or under a key that is an object.
pub fn check_fits_the_tree(bucket_dir: &Path, key: &str) -> S3Result<()> {
    let segments: Vec<&str> = key.split('/').collect();
    let mut path = bucket_dir.to_owned();
    for (i, segment) in segments.iter().enumerate() {
        path.push(segment);
        let last = i + 1 == segments.len();
        match std::fs::symlink_metadata(&path) {
            Ok(found) if !last && !found.is_dir() => {
                let parent = segments[..=i].join("/");
                return Err(refused(
                    S3ErrorCode::InvalidArgument,
                    format!(
                        "oxiam's object store cannot keep {key}: the key {parent} is an object, and one key cannot be both an object and a folder of others"
                    ),
                ));
            }
            // The store leaves a folder behind when its last object is deleted: empty, it
            // holds no key, and goes.
            Ok(found) if last && found.is_dir() && remove_empty_tree(&path) => return Ok(()),
            Ok(found) if last && found.is_dir() => {
                return Err(refused(
                    S3ErrorCode::InvalidArgument,
                    format!(
                        "oxiam's object store cannot keep {key}: other keys begin with {key}/, and one key cannot be both an object and a folder of others"
                    ),
                ));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(errors::internal("looking at the object store failed", &e)),
        }
    }
    Ok(())
}

/// Removes `dir` and the folders under it if no file is among them; whether it did. A file
/// written meanwhile makes the removal of its folder fail, and so keeps it.
fn remove_empty_tree(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    for entry in entries {
        let Ok(entry) = entry else { return false };
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_dir || !remove_empty_tree(&entry.path()) {
            return false;
        }
    }
    std::fs::remove_dir(dir).is_ok()
}

/// Whether `key` names no object but a folder of the store (a key ending in `/`, or the
/// directory of other keys): no object is there, whatever the store would make of it.
pub fn is_a_folder(bucket_dir: &Path, key: &str) -> bool {
    key.ends_with('/') || key.is_empty() || bucket_dir.join(key).is_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_kept_while_their_side_files_fit() {
        // A 4-byte bucket (6 in base64) leaves 255 - 30 - 6 = 219 base64 bytes: 164 bytes.
        assert!(check_storable("test", &"k".repeat(164), false).is_ok());
        let e = check_storable("test", &"k".repeat(165), false).unwrap_err();
        assert_eq!(e.code(), &S3ErrorCode::KeyTooLongError);
        assert!(e.message().unwrap().contains("up to 164 bytes"), "{:?}", e.message());
        // A multipart upload's side file names the upload too: 175 base64 bytes, 131 bytes.
        assert!(check_storable("test", &"k".repeat(132), true).is_err());
        assert!(check_storable("test", &"k".repeat(131), true).is_ok());
        // No segment longer than a file name.
        let long_segment = format!("a/{}", "s".repeat(256));
        assert!(check_storable("b", &long_segment, false).is_err());
    }

    #[test]
    fn keys_that_name_no_file_of_their_own_are_refused() {
        for key in ["photos/", "a//b", "a/./b", "./a"] {
            let e = check_storable("bucket", key, false).unwrap_err();
            assert_eq!(e.code(), &S3ErrorCode::InvalidArgument, "{key}");
        }
        assert!(check_storable("bucket", "a/b.c/.d", false).is_ok());
    }

    #[test]
    fn a_key_is_an_object_or_a_folder_never_both() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dir")).unwrap();
        std::fs::write(dir.path().join("dir/file"), b"x").unwrap();
        assert!(check_fits_the_tree(dir.path(), "dir/other").is_ok());
        assert!(check_fits_the_tree(dir.path(), "dir/file").is_ok(), "an overwrite");
        assert!(check_fits_the_tree(dir.path(), "fresh/key").is_ok());
        assert!(check_fits_the_tree(dir.path(), "dir").is_err());
        assert!(check_fits_the_tree(dir.path(), "dir/file/under").is_err());
        assert!(is_a_folder(dir.path(), "dir"));
        assert!(is_a_folder(dir.path(), "dir/"));
        assert!(!is_a_folder(dir.path(), "dir/file"));
        assert!(!is_a_folder(dir.path(), "missing"));
        // Emptied folders (the store leaves them) are no longer in the way.
        std::fs::remove_file(dir.path().join("dir/file")).unwrap();
        std::fs::create_dir_all(dir.path().join("dir/deeper/still")).unwrap();
        assert!(check_fits_the_tree(dir.path(), "dir").is_ok());
        assert!(!dir.path().join("dir").exists());
    }
}
