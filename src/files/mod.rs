//! Where file contents live, through `object_store`: the local filesystem
//! under `<data_dir>/files` by default, an S3-compatible bucket by
//! configuration, memory in unit tests. Keys are chosen by the domain
//! (random); nothing a client sends becomes part of a key.
use std::io::Seek;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{
    GetOptions, GetRange, GetResultPayload, ObjectStore, ObjectStoreExt, WriteMultipart,
};
use tokio::io::AsyncReadExt;

use crate::error::{AppError, AppResult};

/// How an S3-compatible bucket is reached (AWS, MinIO, R2, moto alike).
#[derive(Clone, Debug, Default)]
pub struct S3Settings {
    pub bucket: String,
    pub region: String,
    /// Empty for AWS; e.g. `http://127.0.0.1:9000` for MinIO.
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Path-style URLs (`endpoint/bucket/key`), as MinIO and moto need.
    pub path_style: bool,
}

/// The object store of every file; cheap to clone.
#[derive(Clone)]
pub struct FileStore {
    inner: Arc<dyn ObjectStore>,
    /// Bytes buffered before a part is written.
    part_size: usize,
}

/// Bytes buffered before a part is sent to S3: its smallest part. An upload
/// holds at most three (two being sent, one filling).
const S3_PART: usize = 5 * 1024 * 1024;
/// The same on the local filesystem, which takes parts of any size.
const LOCAL_PART: usize = 1024 * 1024;
/// Bytes read from a local file at a time when serving it (object_store's
/// stream reads 8 KiB per blocking task, several times slower).
const READ_CHUNK: usize = 256 * 1024;

/// One object being written; dropped or aborted, nothing is left.
pub struct Writer {
    upload: Option<WriteMultipart>,
}

impl Writer {
    /// Adds bytes; waits while earlier parts are still being sent, so memory
    /// stays bounded whatever the file's size.
    pub async fn write(&mut self, bytes: Bytes) -> AppResult<()> {
        let upload = self.upload.as_mut().expect("writer used after finish");
        upload
            .wait_for_capacity(2)
            .await
            .map_err(AppError::internal)?;
        upload.put(bytes);
        Ok(())
    }

    /// Completes the object.
    pub async fn finish(mut self) -> AppResult<()> {
        let upload = self.upload.take().expect("writer finished twice");
        upload.finish().await.map_err(AppError::internal)?;
        Ok(())
    }

    /// Discards what was written.
    pub async fn abort(mut self) {
        if let Some(upload) = self.upload.take() {
            if let Err(e) = upload.abort().await {
                tracing::warn!(error = %e, "aborting an upload failed");
            }
        }
    }
}

/// A stored object's bytes (or the requested range of them).
pub struct Download {
    pub stream: BoxStream<'static, AppResult<Bytes>>,
    /// The range returned, within `0..size`.
    pub range: Range<u64>,
    pub size: u64,
}

impl FileStore {
    /// The local filesystem below `dir` (created when missing).
    pub fn local(dir: &std::path::Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
        Ok(Self {
            part_size: LOCAL_PART,
            ..Self::from_store(Arc::new(fs))
        })
    }

    /// An S3-compatible bucket.
    pub fn s3(s: &S3Settings) -> anyhow::Result<Self> {
        let mut b = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&s.bucket)
            .with_region(if s.region.is_empty() {
                "us-east-1"
            } else {
                &s.region
            })
            .with_virtual_hosted_style_request(!s.path_style);
        if !s.endpoint.is_empty() {
            b = b
                .with_endpoint(&s.endpoint)
                .with_allow_http(s.endpoint.starts_with("http://"));
        }
        if !s.access_key_id.is_empty() {
            b = b
                .with_access_key_id(&s.access_key_id)
                .with_secret_access_key(&s.secret_access_key);
        }
        Ok(Self::from_store(Arc::new(b.build()?)))
    }

    /// Memory only (tests).
    pub fn memory() -> Self {
        Self::from_store(Arc::new(object_store::memory::InMemory::new()))
    }

    pub fn from_store(inner: Arc<dyn ObjectStore>) -> Self {
        Self {
            inner,
            part_size: S3_PART,
        }
    }

    /// Starts writing an object at `key`.
    pub async fn writer(&self, key: &str) -> AppResult<Writer> {
        let upload = self
            .inner
            .put_multipart(&ObjectPath::from(key))
            .await
            .map_err(AppError::internal)?;
        Ok(Writer {
            upload: Some(WriteMultipart::new_with_chunk_size(upload, self.part_size)),
        })
    }

    /// Reads an object, all of it or a range.
    pub async fn read(&self, key: &str, range: Option<Range<u64>>) -> AppResult<Download> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        let got = self
            .inner
            .get_opts(&ObjectPath::from(key), options)
            .await
            .map_err(not_found_or_internal)?;
        let (range, size) = (got.range.clone(), got.meta.size);
        let stream = match got.payload {
            GetResultPayload::File(mut file, _) => {
                // A seek is one system call, no blocking read.
                file.seek(std::io::SeekFrom::Start(range.start))
                    .map_err(AppError::internal)?;
                let file = tokio::fs::File::from_std(file).take(range.end - range.start);
                read_chunks(file, READ_CHUNK).boxed()
            }
            GetResultPayload::Stream(s) => s.map_err(AppError::internal).boxed(),
        };
        Ok(Download {
            stream,
            range,
            size,
        })
    }

    /// Whole object into memory (thumbnail sources, tests).
    pub async fn read_all(&self, key: &str) -> AppResult<Bytes> {
        let got = self
            .inner
            .get(&ObjectPath::from(key))
            .await
            .map_err(not_found_or_internal)?;
        got.bytes().await.map_err(AppError::internal)
    }

    /// Stores a small object in one request.
    pub async fn put(&self, key: &str, bytes: Bytes) -> AppResult<()> {
        self.inner
            .put(&ObjectPath::from(key), bytes.into())
            .await
            .map_err(AppError::internal)?;
        Ok(())
    }

    /// Whether an object exists.
    pub async fn exists(&self, key: &str) -> AppResult<bool> {
        match self.inner.head(&ObjectPath::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(AppError::internal(e)),
        }
    }

    /// The size of an object, if it exists.
    pub async fn size(&self, key: &str) -> AppResult<Option<u64>> {
        match self.inner.head(&ObjectPath::from(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(AppError::internal(e)),
        }
    }

    /// Where the thumbnail `spec` of the object at `key` is kept: beside it,
    /// below `<key>.thumbs/`, so deleting the object can find its thumbnails.
    pub fn thumb_key(key: &str, spec: &str) -> String {
        format!("{key}.thumbs/{spec}")
    }

    /// Deletes objects and their thumbnails; one that is already gone counts
    /// as deleted.
    pub async fn delete(&self, keys: &[String]) {
        for key in keys {
            self.delete_one(key).await;
            let thumbs = ObjectPath::from(format!("{key}.thumbs"));
            let found: Vec<_> = match self.inner.list(Some(&thumbs)).try_collect().await {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(error = %e, key, "listing a file's thumbnails failed");
                    continue;
                }
            };
            for meta in found {
                self.delete_one(meta.location.as_ref()).await;
            }
        }
    }

    async fn delete_one(&self, key: &str) {
        match self.inner.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => tracing::warn!(error = %e, key, "deleting a stored file failed"),
        }
    }

    /// Every key below a prefix (tests check that nothing is left behind).
    pub async fn keys(&self, prefix: Option<&str>) -> AppResult<Vec<String>> {
        let prefix = prefix.map(ObjectPath::from);
        let metas: Vec<_> = self
            .inner
            .list(prefix.as_ref())
            .try_collect()
            .await
            .map_err(AppError::internal)?;
        Ok(metas.into_iter().map(|m| m.location.to_string()).collect())
    }
}

/// A reader's bytes as a stream of chunks of at most `chunk` bytes; it ends
/// after the first error and may be polled again after its end.
pub fn read_chunks<R>(reader: R, chunk: usize) -> impl futures_util::Stream<Item = AppResult<Bytes>>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    futures_util::stream::unfold(Some(reader), move |reader| async move {
        let mut reader = reader?;
        let mut buf = bytes::BytesMut::with_capacity(chunk);
        match reader.read_buf(&mut buf).await {
            Ok(0) => None,
            Ok(_) => Some((Ok(buf.freeze()), Some(reader))),
            Err(e) => Some((Err(AppError::internal(e)), None)),
        }
    })
    .fuse()
}

fn not_found_or_internal(e: object_store::Error) -> AppError {
    match e {
        object_store::Error::NotFound { .. } => AppError::NotFound("file"),
        other => AppError::internal(other),
    }
}
