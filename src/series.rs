//! Mails of a thread -> an ordered patch series with its cover letter and base hint.
