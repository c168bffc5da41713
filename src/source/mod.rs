//! Sources (SPEC §10): what a TARGET names becomes a list of work items, and each work item is
//! opened as a streaming [`Read`]. The scan engine does not care where the bytes come from: a
//! local file, an object in a bucket (`s3://`, `gs://`, `az://`), an object listed by an S3
//! Inventory, or that object's copy in a local mirror.
//!
//! The public API is meant for every producer of work (directory walks, inventories, work lists,
//! shards):
//! - [`items_for_target`] turns one TARGET into a [`Listing`] of [`WorkItem`]s;
//! - [`object_item`] makes a work item of one object URL (`s3://bucket/key`, with an optional
//!   version id), for work lists;
//! - [`open`] opens any work item as a blocking, streaming `Read` (objects are never held whole
//!   in memory: the body arrives chunk by chunk from a small tokio runtime owned by this module).

mod aws_profile;
pub mod inventory;
pub mod object;

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// Where the bytes of a work item are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A local file.
    File(PathBuf),
    /// The object named by the item's URI, read from its store (by version id when known).
    Object,
    /// The local copy of the object under `--mirror-root`: read from this path after checking
    /// that it exists and has the listed size.
    Mirror(PathBuf),
}

/// One unit of work: a file or an object, with what identifies its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkItem {
    /// As shown in reports: the local path as reached from the TARGET, or `s3://bucket/key`
    /// (`gs://`, `az://` likewise). A non-current version listed by an inventory is shown as
    /// `s3://bucket/key?versionId=V`.
    pub uri: String,
    /// The key that decides the shard (SPEC §10): `bucket/key` for objects, the path relative to
    /// the TARGET for local files (the file name for a file TARGET).
    pub shard_key: String,
    /// Size in bytes, when known before reading.
    pub size: Option<u64>,
    /// Modification time (local mtime, or the object's last-modified) in ns since the epoch.
    pub modified: Option<i64>,
    /// The ETag as listed, without quotes.
    pub etag: Option<String>,
    /// The object's version id.
    pub version: Option<String>,
    pub origin: Origin,
}

impl WorkItem {
    /// The name the format is guessed from: the last segment of the key or path.
    pub fn name(&self) -> String {
        let base = match self.origin {
            Origin::Object | Origin::Mirror(_) => object::parse_url(&self.uri).map(|u| u.key).unwrap_or_default(),
            Origin::File(ref p) => p.to_string_lossy().into_owned(),
        };
        base.rsplit('/').next().unwrap_or_default().to_string()
    }

    /// The local file the bytes come from, if any.
    pub fn local_path(&self) -> Option<&Path> {
        match &self.origin {
            Origin::File(p) | Origin::Mirror(p) => Some(p),
            Origin::Object => None,
        }
    }

    /// What `--state` keeps to tell an unchanged item: size, time, and for objects ETag and
    /// version id (no GET needed to compare them).
    pub fn state_meta(&self) -> crate::state::FileMeta {
        crate::state::FileMeta {
            size: self.size.unwrap_or(0),
            mtime_ns: self.modified.unwrap_or(0),
            ino: 0,
            etag: self.etag.clone(),
            version: self.version.clone(),
        }
    }
}

/// Options that shape how TARGETs become work items.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--mirror-root DIR`: objects listed by an inventory are read from `DIR/<key>`.
    pub mirror_root: Option<PathBuf>,
}

/// The work items of one TARGET, and what was left out on purpose (reason → count).
#[derive(Debug, Default)]
pub struct Listing {
    pub items: Vec<WorkItem>,
    /// E.g. `delete_marker` (an inventory row with no content), `noncurrent_version` (a
    /// non-current version when reading from a mirror, which holds current versions only).
    pub skipped: BTreeMap<&'static str, u64>,
    /// Problems with the TARGET that do not stop the scan (a key that names nothing): each is
    /// an `error` record of kind `io` for the TARGET.
    pub errors: Vec<String>,
}

/// Whether a TARGET is a bucket URL (`s3://`, `gs://`, `az://`).
pub fn is_object_url(target: &str) -> bool {
    object::parse_url(target).is_some()
}

/// Whether a TARGET is not a plain local file or directory: a bucket URL, or a local S3
/// Inventory `manifest.json`. These are expanded by [`items_for_target`] before the scan.
pub fn is_listed_target(target: &str) -> bool {
    is_object_url(target) || local_manifest(target).is_some()
}

fn local_manifest(target: &str) -> Option<inventory::Manifest> {
    let p = Path::new(target);
    if p.file_name()? != "manifest.json" || !p.is_file() {
        return None;
    }
    let bytes = std::fs::read(p).ok()?;
    inventory::Manifest::parse(&bytes)
}

/// Expands one TARGET into work items.
///
/// - `s3://bucket/prefix` (also `gs://`, `az://container/prefix`): the objects under the prefix,
///   as listed (the current versions; ETag, version id when the store gives one, size,
///   last-modified). A prefix that names one object is that object. A bucket that cannot be
///   listed is an `Err` (the scan stops with exit 2: nothing trustworthy could be said).
/// - An S3 Inventory `manifest.json`, local or as an object URL: the objects its data files list
///   (see [`inventory`]), read from the bucket or from `options.mirror_root`.
/// - A local file or directory: its regular files, sorted, with the shard key relative to the
///   TARGET (the engine itself walks local trees in parallel and does not use this).
pub fn items_for_target(target: &str, options: &Options) -> anyhow::Result<Listing> {
    if let Some(url) = object::parse_url(target) {
        if url.key.ends_with("manifest.json") {
            let bytes = object::get_all(&url, None).map_err(|e| anyhow::anyhow!("{target}: {e}"))?;
            if let Some(m) = inventory::Manifest::parse(&bytes) {
                return inventory::items(&m, &inventory::DataFrom::Store(url), options);
            }
        }
        return object::list(&url);
    }
    if let Some(m) = local_manifest(target) {
        return inventory::items(&m, &inventory::DataFrom::Local(PathBuf::from(target)), options);
    }
    let root = Path::new(target);
    let meta = std::fs::metadata(root).map_err(|e| anyhow::anyhow!("{target}: {e}"))?;
    let mut listing = Listing::default();
    if !meta.is_dir() {
        listing.items.push(file_item(
            root,
            root.file_name().map(PathBuf::from).unwrap_or_default(),
            &meta,
        ));
        return Ok(listing);
    }
    for e in walkdir::WalkDir::new(root).sort_by_file_name() {
        let e = e.map_err(|e| anyhow::anyhow!("{target}: {e}"))?;
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e.path().strip_prefix(root).unwrap_or(e.path()).to_path_buf();
        if let Ok(m) = e.metadata() {
            listing.items.push(file_item(e.path(), rel, &m));
        }
    }
    Ok(listing)
}

/// The listings of a scan's TARGETs: `Some` for a bucket or inventory TARGET, `None` for a local
/// file, directory or `-` (walked by the engine). An error stops the scan (exit 2).
pub fn plan(targets: &[String], mirror_root: Option<&Path>) -> anyhow::Result<Vec<Option<Listing>>> {
    if let Some(root) = mirror_root {
        anyhow::ensure!(
            targets.iter().any(|t| t.ends_with("manifest.json")),
            "--mirror-root applies to S3 Inventory manifest.json TARGETs, and none was given"
        );
        anyhow::ensure!(root.is_dir(), "--mirror-root {}: not a directory", root.display());
    }
    let options = Options {
        mirror_root: mirror_root.map(Path::to_path_buf),
    };
    targets
        .iter()
        .map(|t| {
            if is_listed_target(t) {
                items_for_target(t, &options).map(Some)
            } else {
                Ok(None)
            }
        })
        .collect()
}

fn file_item(path: &Path, rel: PathBuf, m: &std::fs::Metadata) -> WorkItem {
    let fm = crate::state::FileMeta::of(m);
    WorkItem {
        uri: path.display().to_string(),
        shard_key: rel.to_string_lossy().into_owned(),
        size: Some(fm.size),
        modified: Some(fm.mtime_ns),
        etag: None,
        version: None,
        origin: Origin::File(path.to_path_buf()),
    }
}

/// A work item for one object URL (`s3://bucket/key`, `gs://…`, `az://container/blob`), read
/// from the store, at `version` when given. Nothing is requested until it is opened.
pub fn object_item(url: &str, version: Option<String>) -> Option<WorkItem> {
    let u = object::parse_url(url)?;
    Some(WorkItem {
        uri: u.to_string(),
        shard_key: format!("{}/{}", u.bucket, u.key),
        size: None,
        modified: None,
        etag: None,
        version,
        origin: Origin::Object,
    })
}

/// Opens a work item as a streaming reader. Objects are fetched with one GET (by version id when
/// the item has one) whose body is read chunk by chunk; a mirror copy is checked first: missing,
/// or of another size than listed, is an error naming the mirror path.
pub fn open(item: &WorkItem) -> io::Result<Box<dyn Read + Send>> {
    match &item.origin {
        Origin::File(p) => Ok(Box::new(std::fs::File::open(p)?)),
        Origin::Mirror(p) => {
            let m = std::fs::metadata(p).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("listed in the inventory but not in the mirror: {}: {e}", p.display()),
                )
            })?;
            if let Some(size) = item.size.filter(|&s| s != m.len()) {
                return Err(io::Error::other(format!(
                    "mirror is stale: {} has {} bytes, the inventory lists {size}",
                    p.display(),
                    m.len()
                )));
            }
            Ok(Box::new(std::fs::File::open(p)?))
        }
        Origin::Object => {
            let url = object::parse_url(&item.uri).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("not an object URL: {}", item.uri))
            })?;
            object::get(&url, item.version.clone())
        }
    }
}

/// `root/key` for a key of an inventory, refusing keys that would leave `root`.
pub(crate) fn mirror_path(root: &Path, key: &str) -> Option<PathBuf> {
    let rel = Path::new(key);
    if rel
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return None;
    }
    Some(root.join(rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_items_name_and_key() {
        let it = object_item("s3://b/dir/a b.csv", Some("v1".into())).unwrap();
        assert_eq!(it.uri, "s3://b/dir/a b.csv");
        assert_eq!(it.shard_key, "b/dir/a b.csv");
        assert_eq!(it.name(), "a b.csv");
        assert!(object_item("/tmp/x", None).is_none());
        assert!(object_item("http://x/y", None).is_none());
    }

    #[test]
    fn mirror_paths_stay_inside() {
        let r = Path::new("/m");
        assert_eq!(mirror_path(r, "a/b.csv"), Some(PathBuf::from("/m/a/b.csv")));
        assert_eq!(mirror_path(r, "../etc/passwd"), None);
        assert_eq!(mirror_path(r, "/etc/passwd"), None);
    }
}
