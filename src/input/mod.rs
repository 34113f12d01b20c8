//! Stage 1, input: a message-id or an mbox becomes a [`series::Series`].
//!
//! `msgid` (the id) -> `source` (the mbox bytes, from Patchew or a file) -> `mbox` (raw
//! messages) -> `mail` (decoded mails) -> `mailinfo` (message and patch text, as git
//! mailinfo splits them; `date` reads their `Date:`) -> `series` (ordered patches and
//! the base hint). Nothing here knows git objects.

pub mod date;
pub mod mail;
pub mod mailinfo;
pub mod mbox;
pub mod msgid;
pub mod series;
pub mod source;
