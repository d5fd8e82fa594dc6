//! What both upload pipelines (identity documents, ticket attachments) accept, and the one
//! check of what arrived against what was declared when the upload URL was issued.

use crate::documents::ports::ObjectFacts;

vocabulary!(
    /// What the automated check found wrong with an upload.
    CheckFailure {
        TypeMismatch => "type_mismatch",
        SizeMismatch => "size_mismatch",
        TooLarge => "too_large",
        UnknownUpload => "unknown_upload",
        /// The case no longer waits for this document (decided, or already accepted).
        NotExpected => "not_expected",
    }
);

vocabulary!(
    /// The file types a player may upload; the wire name is the MIME type.
    ContentType {
        Jpeg => "image/jpeg",
        Png => "image/png",
        Pdf => "application/pdf",
        Heic => "image/heic",
    }
);

/// Uploads are capped at 10 MB: a phone photo of an ID or a PDF statement fits easily.
pub const MAX_DOCUMENT_BYTES: u64 = 10 * 1024 * 1024;

impl ContentType {
    /// Does the file start like this type? Checked on the bytes that arrived, never on the
    /// name or the declared type.
    pub fn matches_magic(self, head: &[u8]) -> bool {
        match self {
            ContentType::Jpeg => head.starts_with(&[0xFF, 0xD8, 0xFF]),
            ContentType::Png => head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]),
            ContentType::Pdf => head.starts_with(b"%PDF-"),
            // ISO BMFF: a box size, then `ftyp` and an HEIF brand.
            ContentType::Heic => {
                head.len() >= 12
                    && &head[4..8] == b"ftyp"
                    && matches!(
                        &head[8..12],
                        b"heic" | b"heix" | b"hevc" | b"hevx" | b"mif1" | b"msf1"
                    )
            }
        }
    }
}

/// The upload id at the end of a document or attachment key, if the key has our shape.
pub fn upload_id_of_key(key: &str) -> Option<UploadId> {
    key.rsplit('/').next().and_then(UploadId::parse)
}

prefixed_id!(
    /// One presigned upload: what was promised, so the document check can compare what arrived.
    UploadId,
    "UP-",
    16,
    "an upload id looks like UP- and 16 characters"
);

/// What the server promised when it issued an upload URL: the type and length signed into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declared {
    pub content_type: ContentType,
    pub size: u64,
}

impl Declared {
    /// What the check decides about an object that arrived for this upload: `None` when it is
    /// what was declared. Read from the stored object's own bytes, never from a client's claim
    /// (the emulator, unlike S3, does not enforce the signed length and type).
    pub fn check(&self, facts: &ObjectFacts) -> Option<CheckFailure> {
        if facts.size > MAX_DOCUMENT_BYTES {
            Some(CheckFailure::TooLarge)
        } else if facts.size != self.size {
            Some(CheckFailure::SizeMismatch)
        } else if !self.content_type.matches_magic(&facts.head) {
            Some(CheckFailure::TypeMismatch)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.7\nstatement";

    fn facts(size: u64, head: &[u8]) -> ObjectFacts {
        ObjectFacts {
            size,
            head: head.to_vec(),
        }
    }

    #[test]
    fn magic_bytes_decide_the_type() {
        assert!(ContentType::Pdf.matches_magic(b"%PDF-1.7\n"));
        assert!(!ContentType::Pdf.matches_magic(b"\x89PNG\r\n\x1a\n"));
        assert!(ContentType::Png.matches_magic(b"\x89PNG\r\n\x1a\n...."));
        assert!(ContentType::Jpeg.matches_magic(&[0xFF, 0xD8, 0xFF, 0xE0]));
        assert!(ContentType::Heic.matches_magic(b"\0\0\0\x18ftypheic\0\0\0\0"));
        assert!(!ContentType::Heic.matches_magic(b"\0\0\0\x18ftypisom"));
        assert!(!ContentType::Jpeg.matches_magic(b""));
    }

    #[test]
    fn an_object_passes_only_as_declared() {
        let declared = Declared {
            content_type: ContentType::Pdf,
            size: PDF.len() as u64,
        };
        assert_eq!(declared.check(&facts(PDF.len() as u64, PDF)), None);
        assert_eq!(
            declared.check(&facts(PDF.len() as u64 + 1, PDF)),
            Some(CheckFailure::SizeMismatch)
        );
        assert_eq!(
            declared.check(&facts(PDF.len() as u64, b"\x89PNG\r\n\x1a\n")),
            Some(CheckFailure::TypeMismatch)
        );
        // Too large wins over any other finding: the size cap is what the bucket must never hold.
        let big = Declared {
            content_type: ContentType::Pdf,
            size: MAX_DOCUMENT_BYTES + 1,
        };
        assert_eq!(
            big.check(&facts(MAX_DOCUMENT_BYTES + 1, PDF)),
            Some(CheckFailure::TooLarge)
        );
        assert_eq!(
            declared.check(&facts(MAX_DOCUMENT_BYTES + 1, b"")),
            Some(CheckFailure::TooLarge)
        );
    }

    #[test]
    fn upload_ids_and_their_keys_have_a_checked_shape() {
        let upload = UploadId::generate().expect("random");
        let key = format!("tickets/K7M2Q-9XW45/{}", upload.as_str());
        assert_eq!(upload_id_of_key(&key), Some(upload.clone()));
        assert_eq!(upload_id_of_key("verification/p-1/other"), None);
        let json = serde_json::to_string(&upload).expect("serialises");
        assert_eq!(
            serde_json::from_str::<UploadId>(&json).expect("round trip"),
            upload
        );
        for bad in ["\"UP-1\"", "\"\"", "\"VC-0000000000000000\""] {
            assert!(serde_json::from_str::<UploadId>(bad).is_err(), "{bad}");
        }
        assert_eq!(ContentType::parse("image/jpeg"), Some(ContentType::Jpeg));
        assert_eq!(
            serde_json::to_value(ContentType::Heic).expect("json"),
            serde_json::json!("image/heic")
        );
    }
}
