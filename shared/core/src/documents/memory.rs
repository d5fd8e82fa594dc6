//! Document storage in memory (feature `mocks`): objects put by the test, presigned URLs that
//! only look like S3's.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::Timestamp;

use crate::common::store::StoreError;
use crate::documents::ports::DocumentStorage;
use crate::documents::ports::ObjectFacts;
use crate::documents::ports::Presigned;
use crate::documents::rules::ContentType;

/// Objects in memory; presigned URLs are fake but carry the signed-header list the real
/// adapter signs, so handlers can be checked for what they promise.
#[derive(Default)]
pub struct MemoryDocumentStorage {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryDocumentStorage {
    pub fn put(&self, key: &str, bytes: &[u8]) {
        self.objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned(), bytes.to_vec());
    }

    pub fn keys(&self) -> Vec<String> {
        self.objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect()
    }
}

fn fake_presigned(method: &str, key: &str, now: Timestamp, seconds: i64) -> Presigned {
    Presigned {
        method: method.to_owned(),
        url: format!(
            "https://documents.example/{key}?X-Amz-Expires={seconds}&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bx-amz-server-side-encryption"
        ),
        headers: BTreeMap::new(),
        expires_at: now + jiff::SignedDuration::from_secs(seconds),
    }
}

impl DocumentStorage for MemoryDocumentStorage {
    async fn presign_put(
        &self,
        key: &str,
        content_type: ContentType,
        size: u64,
        now: Timestamp,
    ) -> Result<Presigned, StoreError> {
        let mut presigned = fake_presigned("PUT", key, now, 600);
        presigned
            .headers
            .insert("content-type".into(), content_type.as_str().into());
        presigned
            .headers
            .insert("content-length".into(), size.to_string());
        presigned
            .headers
            .insert("x-amz-server-side-encryption".into(), "aws:kms".into());
        Ok(presigned)
    }

    async fn presign_get(&self, key: &str, now: Timestamp) -> Result<Presigned, StoreError> {
        Ok(fake_presigned("GET", key, now, 300))
    }

    async fn put(&self, key: &str, _content_type: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.to_owned())
            .or_insert_with(|| bytes.to_vec());
        Ok(())
    }

    async fn inspect(&self, key: &str) -> Result<Option<ObjectFacts>, StoreError> {
        Ok(self
            .objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .map(|bytes| ObjectFacts {
                size: bytes.len() as u64,
                head: bytes.iter().take(16).copied().collect(),
            }))
    }

    async fn quarantine(&self, key: &str) -> Result<(), StoreError> {
        let mut objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bytes) = objects.remove(key) {
            objects.insert(format!("quarantine/{key}"), bytes);
        }
        Ok(())
    }
}
