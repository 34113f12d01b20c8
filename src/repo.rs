//! The one module that knows gix: objects, trees, commits, refs, config.
