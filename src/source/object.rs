//! Objects in S3, GCS and Azure Blob Storage through the `object_store` crate.
//!
//! Configuration comes from the environment, as each cloud's tools read it:
//! - S3: `AmazonS3Builder::from_env()`: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//!   `AWS_SESSION_TOKEN`, `AWS_REGION` / `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL` (an `http://`
//!   endpoint is allowed as given), and without keys the default chain (web identity token file,
//!   ECS/EKS container credentials, EC2 instance metadata).
//! - GCS: `GoogleCloudStorageBuilder::from_env()`: `GOOGLE_SERVICE_ACCOUNT` (or `_PATH`, `_KEY`),
//!   `GOOGLE_APPLICATION_CREDENTIALS`, else the metadata server.
//! - Azure: `MicrosoftAzureBuilder::from_env()`: `AZURE_STORAGE_ACCOUNT_NAME`,
//!   `AZURE_STORAGE_ACCOUNT_KEY` or `AZURE_STORAGE_SAS_KEY` or a service principal
//!   (`AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`, `AZURE_TENANT_ID`), `AZURE_STORAGE_USE_EMULATOR`.
//!
//! Reads are blocking for the scan's worker threads and asynchronous underneath: one small tokio
//! runtime per process drives the HTTP clients, and a body is handed over one chunk at a time.

use super::{Listing, WorkItem};
use bytes::{Buf, Bytes};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as OPath;
use object_store::{GetOptions, ObjectMeta, ObjectStore, RetryConfig};
use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// `scheme://bucket/key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectUrl {
    /// `s3`, `gs` or `az`.
    pub scheme: String,
    /// The bucket (the container for `az://`).
    pub bucket: String,
    /// The key, or a prefix, without a leading `/`; may be empty.
    pub key: String,
}

impl std::fmt::Display for ObjectUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}/{}", self.scheme, self.bucket, self.key)
    }
}

/// Parses `s3://bucket/key`, `gs://bucket/key`, `az://container/blob`. A trailing
/// `?versionId=V` (how non-current versions are shown) is not part of the key.
pub fn parse_url(s: &str) -> Option<ObjectUrl> {
    let (scheme, rest) = s.split_once("://")?;
    if !matches!(scheme, "s3" | "gs" | "az") {
        return None;
    }
    let rest = match rest.rfind("?versionId=") {
        Some(i) => &rest[..i],
        None => rest,
    };
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return None;
    }
    Some(ObjectUrl {
        scheme: scheme.to_string(),
        bucket: bucket.to_string(),
        key: key.trim_start_matches('/').to_string(),
    })
}

struct Client {
    rt: tokio::runtime::Runtime,
    stores: Mutex<HashMap<(String, String), Arc<dyn ObjectStore>>>,
}

fn client() -> io::Result<&'static Client> {
    static CLIENT: OnceLock<Result<Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("appiscan-objects")
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the object store runtime: {e}"))?;
            Ok(Client {
                rt,
                stores: Mutex::new(HashMap::new()),
            })
        })
        .as_ref()
        .map_err(|e| io::Error::other(e.clone()))
}

fn retry() -> RetryConfig {
    RetryConfig {
        max_retries: 4,
        retry_timeout: Duration::from_secs(60),
        ..Default::default()
    }
}

use crate::config::env;

fn build_store(scheme: &str, bucket: &str) -> object_store::Result<Arc<dyn ObjectStore>> {
    Ok(match scheme {
        "s3" => {
            let mut b = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_retry(retry());
            // The shared config files (AWS_PROFILE), under the environment variables.
            let profile = super::aws_profile::load();
            if env("AWS_ACCESS_KEY_ID").is_none()
                && let (Some(k), Some(s)) = (&profile.access_key_id, &profile.secret_access_key)
            {
                b = b.with_access_key_id(k).with_secret_access_key(s);
                if let Some(t) = &profile.session_token {
                    b = b.with_token(t);
                }
            }
            if env("AWS_REGION").is_none()
                && env("AWS_DEFAULT_REGION").is_none()
                && let Some(r) = &profile.region
            {
                b = b.with_region(r);
            }
            let mut endpoint = env("AWS_ENDPOINT_URL_S3").or_else(|| env("AWS_ENDPOINT_URL"));
            if endpoint.is_none()
                && let Some(e) = &profile.endpoint_url
            {
                b = b.with_endpoint(e);
                endpoint = Some(e.clone());
            }
            if endpoint.is_some_and(|e| e.starts_with("http://")) {
                b = b.with_allow_http(true);
            }
            Arc::new(b.build()?)
        }
        "gs" => Arc::new(
            object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_bucket_name(bucket)
                .with_retry(retry())
                .build()?,
        ),
        _ => Arc::new(
            object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_container_name(bucket)
                .with_retry(retry())
                .build()?,
        ),
    })
}

fn store(url: &ObjectUrl) -> io::Result<(&'static Client, Arc<dyn ObjectStore>)> {
    let c = client()?;
    let mut stores = c.stores.lock().unwrap_or_else(|e| e.into_inner());
    let k = (url.scheme.clone(), url.bucket.clone());
    if let Some(s) = stores.get(&k) {
        return Ok((c, s.clone()));
    }
    let s = build_store(&url.scheme, &url.bucket)
        .map_err(|e| io::Error::other(format!("{}://{}: configuration: {e}", url.scheme, url.bucket)))?;
    stores.insert(k, s.clone());
    Ok((c, s))
}

/// An `object_store` error as an I/O error of the matching kind, with a message that says what
/// to check when access is denied.
fn io_err(url: &ObjectUrl, e: object_store::Error) -> io::Error {
    io::Error::new(kind_of(&e), format!("{url}: {}", describe(e)))
}

fn kind_of(e: &object_store::Error) -> io::ErrorKind {
    use object_store::Error as E;
    match e {
        E::NotFound { .. } => io::ErrorKind::NotFound,
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => io::ErrorKind::PermissionDenied,
        _ => io::ErrorKind::Other,
    }
}

/// The error with a hint of what to check.
fn describe(e: object_store::Error) -> String {
    use object_store::Error as E;
    let text = e.to_string();
    let hint = match &e {
        E::PermissionDenied { .. } => " (access denied: check the policy)",
        E::Unauthenticated { .. } => " (not authenticated: check the credentials in the environment)",
        _ if text.contains("403 Forbidden") || text.contains("AccessDenied") => {
            " (access denied: check the credentials and the policy: s3:ListBucket to list, s3:GetObject and \
             kms:Decrypt to read)"
        }
        _ if text.contains("NoSuchBucket") => " (no such bucket)",
        _ if text.contains("error sending request") => " (the endpoint cannot be reached)",
        _ => "",
    };
    format!("{text}{hint}")
}

fn key_path(key: &str) -> OPath {
    OPath::parse(key).unwrap_or_else(|_| OPath::from(key))
}

fn item_of(url: &ObjectUrl, m: &ObjectMeta) -> WorkItem {
    let key = m.location.as_ref().to_string();
    WorkItem {
        uri: format!("{}://{}/{}", url.scheme, url.bucket, key),
        shard_key: format!("{}/{}", url.bucket, key),
        size: Some(m.size),
        modified: m.last_modified.timestamp_nanos_opt(),
        etag: m.e_tag.as_deref().map(unquote),
        version: m.version.clone(),
        origin: super::Origin::Object,
    }
}

/// An ETag without its quotes (listings quote it, inventories do not).
pub fn unquote(etag: &str) -> String {
    etag.trim_matches('"').to_string()
}

/// Lists the objects under `url` (a bucket, or a prefix in it). The listing is the preflight: a
/// bucket that cannot be listed is an error that says why. A prefix that names one object (and
/// nothing below it) is that object. Then the first object's head is read: if reading is denied,
/// a warning says so on standard error (each object will then be an `error` record).
pub fn list(url: &ObjectUrl) -> anyhow::Result<Listing> {
    let (c, s) = store(url)?;
    let prefix = url.key.trim_end_matches('/');
    let prefix = (!prefix.is_empty()).then(|| key_path(prefix));
    let metas: Vec<ObjectMeta> =
        c.rt.block_on(s.list(prefix.as_ref()).try_collect())
            .map_err(|e| anyhow::anyhow!("cannot list {url}: {}", describe(e)))?;
    let mut listing = Listing {
        items: metas.iter().map(|m| item_of(url, m)).collect(),
        ..Default::default()
    };
    if listing.items.is_empty() && !url.key.is_empty() && !url.key.ends_with('/') {
        // Not a prefix: perhaps one object.
        let head = c.rt.block_on(s.get_opts(
            &key_path(&url.key),
            GetOptions {
                head: true,
                ..Default::default()
            },
        ));
        match head {
            Ok(r) => listing.items.push(item_of(url, &r.meta)),
            Err(object_store::Error::NotFound { .. }) => listing
                .errors
                .push(format!("no object {url}, and no object under the prefix {url}/")),
            Err(e) => anyhow::bail!("cannot read {url}: {}", describe(e)),
        }
        return Ok(listing);
    }
    if let Some(first) = listing.items.first() {
        let head = c.rt.block_on(s.get_opts(
            &key_path(&first.shard_key[url.bucket.len() + 1..]),
            GetOptions {
                head: true,
                ..Default::default()
            },
        ));
        if let Err(e) = head {
            eprintln!(
                "appiscan: warning: {url} can be listed but reading {} failed: {}",
                first.uri,
                describe(e)
            );
        }
    }
    Ok(listing)
}

/// Opens one object for streaming: one GET (of `version` when given); the body is read chunk by
/// chunk as the caller reads, so memory holds at most one chunk.
pub fn get(url: &ObjectUrl, version: Option<String>) -> io::Result<Box<dyn Read + Send>> {
    let (c, s) = store(url)?;
    let path = key_path(&url.key);
    let r =
        c.rt.block_on(s.get_opts(
            &path,
            GetOptions {
                version,
                ..Default::default()
            },
        ))
        .map_err(|e| io_err(url, e))?;
    Ok(Box::new(ObjectReader {
        stream: r.into_stream(),
        buf: Bytes::new(),
        handle: c.rt.handle().clone(),
        url: url.clone(),
    }))
}

/// Reads a whole (small) object: an inventory manifest or data file.
pub fn get_all(url: &ObjectUrl, version: Option<String>) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    get(url, version)?.read_to_end(&mut out)?;
    Ok(out)
}

struct ObjectReader {
    stream: BoxStream<'static, object_store::Result<Bytes>>,
    buf: Bytes,
    handle: tokio::runtime::Handle,
    url: ObjectUrl,
}

impl Read for ObjectReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.buf.is_empty() {
            match self.handle.block_on(self.stream.next()) {
                None => return Ok(0),
                Some(Err(e)) => return Err(io_err(&self.url, e)),
                Some(Ok(b)) => self.buf = b,
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        self.buf.advance(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("s3://bucket/a/b.csv").unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.bucket.as_str(), u.key.as_str()),
            ("s3", "bucket", "a/b.csv")
        );
        assert_eq!(parse_url("gs://b").unwrap().key, "");
        assert_eq!(parse_url("az://c/x/").unwrap().key, "x/");
        assert_eq!(parse_url("s3://b/k?versionId=123").unwrap().key, "k");
        assert!(parse_url("s3:///k").is_none());
        assert!(parse_url("file:///k").is_none());
        assert_eq!(unquote("\"abc\""), "abc");
    }
}
