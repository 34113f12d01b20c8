//! The top of the library: whole flows made of the stages below.
//!
//! `apply` takes one series from its message-id (or mbox) to a pushed tag, `applier`
//! runs that for Patchew's queue unattended, `report` writes one testing result,
//! `doctor` checks every link, and `clients` builds the Patchew and GitLab clients from the settings.

pub mod applier;
pub mod apply;
pub mod clients;
pub mod doctor;
pub mod doctor_fix;
pub mod includes;
pub mod prune;
pub mod report;
pub mod retest;
