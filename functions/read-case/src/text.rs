//! What the player reads about their case, in the case's language. Codes stay in the answer
//! beside the text, so an app can use its own wording.

use guichet_core::common::player::Language;
use guichet_core::documents::rules::CheckFailure;
use guichet_core::verification::rules::{CaseStatus, DocumentKind, DocumentStatus, ReasonCode};

pub fn case_status(status: CaseStatus, language: Language) -> &'static str {
    match (language, status) {
        (Language::Fr, CaseStatus::AwaitingDocuments) => "En attente de vos documents",
        (Language::Fr, CaseStatus::InReview) => "Vos documents sont en cours de vérification",
        (Language::Fr, CaseStatus::Approved) => "Votre identité est vérifiée",
        (Language::Fr, CaseStatus::Rejected) => "Votre vérification d'identité a été refusée",
        (Language::En, CaseStatus::AwaitingDocuments) => "Waiting for your documents",
        (Language::En, CaseStatus::InReview) => "Your documents are being reviewed",
        (Language::En, CaseStatus::Approved) => "Your identity is verified",
        (Language::En, CaseStatus::Rejected) => "Your identity verification was rejected",
    }
}

pub fn document_kind(kind: DocumentKind, language: Language) -> &'static str {
    match (language, kind) {
        (Language::Fr, DocumentKind::GovernmentId) => "Pièce d'identité officielle avec photo",
        (Language::Fr, DocumentKind::ProofOfAddress) => {
            "Justificatif de domicile daté de moins de 3 mois"
        }
        (Language::Fr, DocumentKind::PaymentMethodOwnership) => {
            "Preuve que le moyen de paiement est à votre nom"
        }
        (Language::En, DocumentKind::GovernmentId) => "Government-issued photo ID",
        (Language::En, DocumentKind::ProofOfAddress) => {
            "Proof of address dated within the last 3 months"
        }
        (Language::En, DocumentKind::PaymentMethodOwnership) => {
            "Proof that the payment method is in your name"
        }
    }
}

pub fn document_status(status: DocumentStatus, language: Language) -> &'static str {
    match (language, status) {
        (Language::Fr, DocumentStatus::Missing) => "À envoyer",
        (Language::Fr, DocumentStatus::Received) => "Reçu, en attente de vérification",
        (Language::Fr, DocumentStatus::Refused) => "Refusé à la réception : à envoyer de nouveau",
        (Language::Fr, DocumentStatus::ResubmissionRequested) => "À envoyer de nouveau",
        (Language::Fr, DocumentStatus::Accepted) => "Accepté",
        (Language::En, DocumentStatus::Missing) => "To send",
        (Language::En, DocumentStatus::Received) => "Received, waiting for review",
        (Language::En, DocumentStatus::Refused) => "Refused on arrival: please send it again",
        (Language::En, DocumentStatus::ResubmissionRequested) => "Please send it again",
        (Language::En, DocumentStatus::Accepted) => "Accepted",
    }
}

/// Suspected tampering is worded neutrally: the player learns the document cannot be
/// accepted, not what the reviewer suspects.
pub fn reason(code: ReasonCode, language: Language) -> &'static str {
    match (language, code) {
        (Language::Fr, ReasonCode::Unreadable) => "Le document est illisible",
        (Language::Fr, ReasonCode::Expired) => "Le document est expiré",
        (Language::Fr, ReasonCode::NameMismatch) => {
            "Le nom ne correspond pas à celui de votre compte"
        }
        (Language::Fr, ReasonCode::AddressTooOld) => "Le document date de plus de 3 mois",
        (Language::Fr, ReasonCode::WrongDocumentType) => "Ce type de document n'est pas accepté",
        (Language::Fr, ReasonCode::Incomplete) => "Le document est incomplet",
        (Language::Fr, ReasonCode::SuspectedTampering) => {
            "Le document ne peut pas être accepté tel qu'il a été envoyé"
        }
        (Language::En, ReasonCode::Unreadable) => "The document is unreadable",
        (Language::En, ReasonCode::Expired) => "The document has expired",
        (Language::En, ReasonCode::NameMismatch) => {
            "The name does not match the one on your account"
        }
        (Language::En, ReasonCode::AddressTooOld) => "The document is more than 3 months old",
        (Language::En, ReasonCode::WrongDocumentType) => "This type of document is not accepted",
        (Language::En, ReasonCode::Incomplete) => "The document is incomplete",
        (Language::En, ReasonCode::SuspectedTampering) => {
            "The document cannot be accepted as it was sent"
        }
    }
}

pub fn check_failure(failure: CheckFailure, language: Language) -> &'static str {
    match (language, failure) {
        (Language::Fr, CheckFailure::TypeMismatch) => {
            "Le fichier n'est pas du type annoncé (JPEG, PNG, PDF ou HEIC)"
        }
        (Language::Fr, CheckFailure::SizeMismatch) => {
            "La taille du fichier ne correspond pas à celle annoncée"
        }
        (Language::Fr, CheckFailure::TooLarge) => "Le fichier dépasse 10 Mo",
        (Language::Fr, CheckFailure::UnknownUpload) => "Cet envoi n'a pas été reconnu",
        (Language::Fr, CheckFailure::NotExpected) => "Ce document n'était plus attendu",
        (Language::En, CheckFailure::TypeMismatch) => {
            "The file is not of the type announced (JPEG, PNG, PDF or HEIC)"
        }
        (Language::En, CheckFailure::SizeMismatch) => {
            "The file's size differs from the size announced"
        }
        (Language::En, CheckFailure::TooLarge) => "The file is larger than 10 MB",
        (Language::En, CheckFailure::UnknownUpload) => "This upload was not recognised",
        (Language::En, CheckFailure::NotExpected) => "This document was no longer expected",
    }
}
