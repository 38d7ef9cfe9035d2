//! Data rights (GDPR): what is held about a person, for their copy of it
//! (Art. 15 and 20), its erasure (Art. 17): an account's, and a profile's
//! whose person never signed up, and the public "what do you hold about
//! me?" request. The list of personal tables is `db::personal_data`.

pub mod erasure;
pub mod export;
pub mod profile_erasure;
pub mod records;
pub mod requests;
pub mod shred;
pub mod subjects;

pub use export::{export_account, export_subject, DataExport};
pub use profile_erasure::{erase_profile, ErasurePreview, ProfileErased};
pub use requests::DataRequestAccepted;
pub use subjects::DataSubject;
