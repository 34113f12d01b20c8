//! Series + base commit -> commits, through `repo`.
