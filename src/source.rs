//! Message-id -> mbox bytes, from the configured sources in order.
