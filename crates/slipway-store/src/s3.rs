//! A store under an S3 prefix, through the AWS SDK: the default credential
//! chain, `AWS_ENDPOINT_URL` honoured (path-style addressing then, as
//! S3-compatible servers expect), the region from the chain or `--region`.
//! Blocking calls over a small runtime of the client's own.

use std::sync::Arc;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use crate::StoreError;

/// Parts of a multipart upload: S3's minimum is 5 MiB; 8 MiB keeps memory
/// to one part while a 2 GiB artifact takes some 250 parts (limit 10,000).
pub(crate) const PART_SIZE: usize = 8 << 20;

struct Inner {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
}

pub(crate) struct S3 {
    inner: Arc<Inner>,
}

fn failed<E, R>(action: &'static str, url: &str, err: &SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::Failed {
        action,
        url: url.to_owned(),
        message: DisplayErrorContext(err).to_string(),
    }
}

fn status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

impl S3 {
    pub(crate) fn new(
        bucket: &str,
        prefix: String,
        region: Option<&str>,
        url: &str,
    ) -> Result<S3, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| StoreError::Failed {
                action: "start the S3 client for",
                url: url.to_owned(),
                message: e.to_string(),
            })?;
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(region) = region {
            loader = loader.region(aws_config::Region::new(region.to_owned()));
        }
        let config = runtime.block_on(loader.load());
        if config.region().is_none() {
            return Err(StoreError::NoRegion(url.to_owned()));
        }
        let custom_endpoint = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
            .iter()
            .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()));
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(custom_endpoint)
            .build();
        Ok(S3 {
            inner: Arc::new(Inner {
                runtime,
                client: aws_sdk_s3::Client::from_conf(s3_config),
                bucket: bucket.to_owned(),
                prefix,
            }),
        })
    }

    fn key(&self, leaf: &str) -> String {
        format!("{}/{leaf}", self.inner.prefix)
    }

    pub(crate) fn create(&self, leaf: &str, bytes: &[u8], url: &str) -> Result<(), StoreError> {
        let i = &self.inner;
        let request = i
            .client
            .put_object()
            .bucket(&i.bucket)
            .key(self.key(leaf))
            .if_none_match("*")
            .body(ByteStream::from(bytes.to_vec()))
            .send();
        match i.runtime.block_on(request) {
            Ok(_) => Ok(()),
            // 412: the object exists; 409: a concurrent conditional write won.
            Err(err) if matches!(status(&err), Some(412 | 409)) => {
                Err(StoreError::Exists(url.to_owned()))
            }
            Err(err) => Err(failed("write", url, &err)),
        }
    }

    pub(crate) fn read(
        &self,
        leaf: &str,
        max: u64,
        url: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let i = &self.inner;
        let request = i
            .client
            .get_object()
            .bucket(&i.bucket)
            .key(self.key(leaf))
            .send();
        let too_large = || StoreError::TooLarge {
            url: url.to_owned(),
            max,
        };
        i.runtime.block_on(async {
            let output = match request.await {
                Ok(output) => output,
                Err(err) if status(&err) == Some(404) => return Ok(None),
                Err(err) => return Err(failed("read", url, &err)),
            };
            if output
                .content_length()
                .is_some_and(|n| u64::try_from(n).unwrap_or(u64::MAX) > max)
            {
                return Err(too_large());
            }
            let bytes = collect(output.body, max, url)
                .await?
                .ok_or_else(too_large)?;
            Ok(Some(bytes))
        })
    }

    pub(crate) fn read_range(
        &self,
        leaf: &str,
        offset: u64,
        len: u32,
        url: &str,
    ) -> Result<Vec<u8>, StoreError> {
        let i = &self.inner;
        if len == 0 {
            return Ok(Vec::new());
        }
        let last = offset + u64::from(len) - 1;
        let request = i
            .client
            .get_object()
            .bucket(&i.bucket)
            .key(self.key(leaf))
            .range(format!("bytes={offset}-{last}"))
            .send();
        i.runtime.block_on(async {
            let output = request.await.map_err(|err| failed("read", url, &err))?;
            let bytes = collect(output.body, u64::from(len), url)
                .await?
                .ok_or_else(|| StoreError::Failed {
                    action: "read",
                    url: url.to_owned(),
                    message: format!("a range of {len} bytes answered with more"),
                })?;
            if bytes.len() != len as usize {
                return Err(StoreError::Short {
                    url: url.to_owned(),
                    offset,
                    wanted: u64::from(len),
                    got: bytes.len() as u64,
                });
            }
            Ok(bytes)
        })
    }

    pub(crate) fn upload(&self, leaf: &str, url: &str) -> Result<Upload, StoreError> {
        let i = &self.inner;
        let key = self.key(leaf);
        let request = i
            .client
            .create_multipart_upload()
            .bucket(&i.bucket)
            .key(&key)
            .send();
        let output = i
            .runtime
            .block_on(request)
            .map_err(|err| failed("start the upload of", url, &err))?;
        let id = output.upload_id().unwrap_or_default().to_owned();
        Ok(Upload {
            inner: Arc::clone(&self.inner),
            key,
            id,
            buffer: Vec::with_capacity(PART_SIZE),
            parts: Vec::new(),
            done: false,
        })
    }
}

/// The body, or `None` when it is over `max` bytes.
async fn collect(mut body: ByteStream, max: u64, url: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = body.try_next().await.map_err(|e| StoreError::Failed {
        action: "read",
        url: url.to_owned(),
        message: crate::chain(&e),
    })? {
        if (bytes.len() + chunk.len()) as u64 > max {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(bytes))
}

/// A multipart upload: one part in memory at a time; aborted when dropped
/// unfinished, so no parts are left to pay for.
pub(crate) struct Upload {
    inner: Arc<Inner>,
    key: String,
    id: String,
    buffer: Vec<u8>,
    parts: Vec<CompletedPart>,
    done: bool,
}

impl Upload {
    pub(crate) fn write(&mut self, mut bytes: &[u8], url: &str) -> Result<(), StoreError> {
        while !bytes.is_empty() {
            let take = (PART_SIZE - self.buffer.len()).min(bytes.len());
            self.buffer.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buffer.len() == PART_SIZE {
                self.send_part(url)?;
            }
        }
        Ok(())
    }

    fn send_part(&mut self, url: &str) -> Result<(), StoreError> {
        let i = &self.inner;
        let number = i32::try_from(self.parts.len() + 1).unwrap_or(i32::MAX);
        let body = std::mem::replace(&mut self.buffer, Vec::with_capacity(PART_SIZE));
        let request = i
            .client
            .upload_part()
            .bucket(&i.bucket)
            .key(&self.key)
            .upload_id(&self.id)
            .part_number(number)
            .body(ByteStream::from(body))
            .send();
        let output = i
            .runtime
            .block_on(request)
            .map_err(|err| failed("upload a part of", url, &err))?;
        self.parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(output.e_tag().map(str::to_owned))
                .build(),
        );
        Ok(())
    }

    pub(crate) fn finish(mut self, url: &str) -> Result<(), StoreError> {
        if !self.buffer.is_empty() || self.parts.is_empty() {
            self.send_part(url)?;
        }
        let i = Arc::clone(&self.inner);
        let request = i
            .client
            .complete_multipart_upload()
            .bucket(&i.bucket)
            .key(&self.key)
            .upload_id(&self.id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(std::mem::take(&mut self.parts)))
                    .build(),
            )
            .send();
        i.runtime
            .block_on(request)
            .map_err(|err| failed("complete the upload of", url, &err))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let i = &self.inner;
        let request = i
            .client
            .abort_multipart_upload()
            .bucket(&i.bucket)
            .key(&self.key)
            .upload_id(&self.id)
            .send();
        if let Err(err) = i.runtime.block_on(request) {
            tracing::warn!(
                key = %self.key,
                "could not abort the unfinished upload: {}",
                DisplayErrorContext(&err)
            );
        }
    }
}
