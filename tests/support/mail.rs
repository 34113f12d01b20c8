//! The tests' one builder of a patch mail in mbox form, as `git format-patch` writes
//! it: From_ line, headers, body, `---`, the diff, the signature.
//!
//! ```ignore
//! let mbox = Mail::new("[PATCH] add f").msgid("a@x").adding("f.txt").mbox();
//! ```

/// One mail; every part has a plain default.
#[derive(Debug, Clone)]
pub struct Mail {
    from: String,
    subject: String,
    msgid: Option<String>,
    /// Replaces `From:` and `Subject:` when set: headers written by hand.
    raw_headers: Option<String>,
    extra_headers: String,
    body: String,
    diff: String,
}

impl Mail {
    pub fn new(subject: &str) -> Self {
        Mail {
            from: "A U Thor <author@example.com>".into(),
            subject: subject.into(),
            msgid: None,
            raw_headers: None,
            extra_headers: String::new(),
            body: "Body.".into(),
            diff: String::new(),
        }
    }

    pub fn from(mut self, from: &str) -> Self {
        self.from = from.into();
        self
    }

    /// `Message-Id: <id>`.
    pub fn msgid(mut self, id: &str) -> Self {
        self.msgid = Some(id.into());
        self
    }

    /// `From:` and `Subject:` (and whatever else) as written here, each line ending
    /// in a newline.
    pub fn raw_headers(mut self, headers: &str) -> Self {
        self.raw_headers = Some(headers.into());
        self
    }

    /// More header lines after the usual ones, each ending in a newline.
    pub fn headers(mut self, headers: &str) -> Self {
        self.extra_headers.push_str(headers);
        self
    }

    pub fn body(mut self, body: &str) -> Self {
        self.body = body.into();
        self
    }

    /// The patch, as `diff --git` text ending in a newline.
    pub fn diff(mut self, diff: &str) -> Self {
        self.diff = diff.into();
        self
    }

    /// The patch creates `path` holding `x`.
    pub fn adding(self, path: &str) -> Self {
        self.diff(&new_file(path))
    }

    pub fn mbox(&self) -> String {
        let mut m = String::from(
            "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n",
        );
        match &self.raw_headers {
            Some(raw) => m.push_str(raw),
            None => m.push_str(&format!("From: {}\n", self.from)),
        }
        m.push_str("Date: Tue, 14 Nov 2023 22:13:20 +0100\n");
        if self.raw_headers.is_none() {
            m.push_str(&format!("Subject: {}\n", self.subject));
        }
        if let Some(id) = &self.msgid {
            m.push_str(&format!("Message-Id: <{id}>\n"));
        }
        m.push_str(&self.extra_headers);
        m.push_str(&format!(
            "\n{}\n---\n{}-- \n2.43.0\n\n",
            self.body, self.diff
        ));
        m
    }
}

/// A diff creating `path` with one line, `x`.
pub fn new_file(path: &str) -> String {
    format!(
        "diff --git a/{path} b/{path}\n\
         new file mode 100644\n\
         --- /dev/null\n\
         +++ b/{path}\n\
         @@ -0,0 +1 @@\n\
         +x\n"
    )
}
