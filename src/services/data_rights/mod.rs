//! Data rights (GDPR): what is held about a person, for their copy of it
//! (Art. 15 and 20), the erasure of a profile whose person never signed
//! up (Art. 17), and the public "what do you hold about me?" request. The
//! list of personal tables is `db::personal_data`.

pub mod profile_erasure;
pub mod export;
pub mod records;
pub mod requests;
pub mod subjects;

pub use profile_erasure::{erase_profile, ErasurePreview, ProfileErased};
pub use export::{export_account, export_subject, DataExport};
pub use requests::DataRequestAccepted;
pub use subjects::DataSubject;
