//! Data rights (GDPR): what is held about a person, for their copy of it
//! (Art. 15 and 20). The list of personal tables is `db::personal_data`.

pub mod erasure;
pub mod export;
pub mod records;
pub mod subjects;

pub use erasure::{erase_profile, ErasurePreview, ProfileErased};
pub use export::{export_account, export_subject, DataExport};
pub use subjects::DataSubject;
