//! What a file field accepts: size, types, how many, who may read it.
use crate::domain::collections::{FieldDecl, FieldType};
use crate::error::{AppError, AppResult};

/// Largest file a field accepts unless it declares otherwise (5 MiB).
pub const DEFAULT_MAX_SIZE: u64 = 5 * 1024 * 1024;
/// Largest `max_size` a field may declare (50 MiB, as Cocobase documents).
pub const MAX_MAX_SIZE: u64 = 50 * 1024 * 1024;
/// The types a field accepts unless it declares others: images, PDF, Word.
pub const DEFAULT_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
];
/// The thumbnail size every image field serves, declared or not (PocketBase's).
pub const DEFAULT_THUMB: &str = "100x100";

/// The rules of one file field (an undeclared one has the defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct FileRules {
    pub max_size: u64,
    /// Exact types or `type/*` patterns.
    pub types: Vec<String>,
    /// Most files the field holds; 1 means a single file (a name, not a list).
    pub max_select: u32,
    /// Read only with a file token of a caller who may view the record.
    pub protected: bool,
    /// Thumbnail sizes besides `100x100`.
    pub thumbs: Vec<String>,
}

impl Default for FileRules {
    fn default() -> Self {
        Self {
            max_size: DEFAULT_MAX_SIZE,
            types: DEFAULT_TYPES.iter().map(|t| t.to_string()).collect(),
            max_select: 1,
            protected: false,
            thumbs: vec![],
        }
    }
}

impl FileRules {
    /// The rules of a declared file field, or the defaults for an undeclared key.
    pub fn of(decl: Option<&FieldDecl>) -> Self {
        let Some(d) = decl else {
            return Self::default();
        };
        let d0 = Self::default();
        Self {
            max_size: d.max_size.unwrap_or(d0.max_size),
            types: if d.mime_types.is_empty() {
                d0.types
            } else {
                d.mime_types.clone()
            },
            max_select: d.max_select.unwrap_or(if d.many { 99 } else { 1 }),
            protected: d.protected,
            thumbs: d.thumbs.clone(),
        }
    }

    /// Whether the field holds a list of names.
    pub fn many(&self) -> bool {
        self.max_select > 1
    }

    /// Whether a type (found from the bytes) is accepted.
    pub fn allows(&self, content_type: &str) -> bool {
        self.types.iter().any(|t| match t.strip_suffix("/*") {
            Some(major) => content_type
                .split_once('/')
                .is_some_and(|(m, _)| m.eq_ignore_ascii_case(major)),
            None => t.eq_ignore_ascii_case(content_type),
        })
    }

    /// Whether a thumbnail size may be generated for this field.
    pub fn serves_thumb(&self, size: &str) -> bool {
        size == DEFAULT_THUMB || self.thumbs.iter().any(|t| t == size)
    }
}

/// Checks the file options of a declaration (in a project file).
pub fn check_decl(d: &FieldDecl) -> AppResult<()> {
    let has_file_options = d.max_size.is_some()
        || !d.mime_types.is_empty()
        || d.max_select.is_some()
        || d.protected
        || !d.thumbs.is_empty();
    if d.field_type != FieldType::File {
        if has_file_options {
            return Err(AppError::validation(
                d.name.clone(),
                format!(
                    "`{}`: max_size, mime_types, max_select, protected and thumbs are for file fields",
                    d.name
                ),
            ));
        }
        return Ok(());
    }
    if let Some(max) = d.max_size {
        if max == 0 || max > MAX_MAX_SIZE {
            return Err(AppError::validation(
                "max_size",
                format!("`{}`: max_size must be between 1 byte and 50 MiB", d.name),
            ));
        }
    }
    if d.max_select == Some(0) || d.max_select.is_some_and(|n| n > 99) {
        return Err(AppError::validation(
            "max_select",
            format!("`{}`: max_select must be between 1 and 99", d.name),
        ));
    }
    if d.max_select.is_some_and(|n| n > 1) && !d.many {
        return Err(AppError::validation(
            "max_select",
            format!("`{}`: max_select above 1 needs many = true", d.name),
        ));
    }
    for t in &d.mime_types {
        if !t.contains('/') || t.chars().any(|c| c.is_whitespace()) {
            return Err(AppError::validation(
                "mime_types",
                format!("`{}`: `{t}` is not a media type like image/png", d.name),
            ));
        }
    }
    for t in &d.thumbs {
        if super::thumbs::ThumbSpec::parse(t).is_none() {
            return Err(AppError::validation(
                "thumbs",
                format!(
                    "`{}`: thumb `{t}` must look like 100x100, 0x50, 200x0 or 100x100t",
                    d.name
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_patterns_and_defaults() {
        let r = FileRules::default();
        assert!(r.allows("image/png") && r.allows("application/pdf"));
        assert!(!r.allows("image/svg+xml") && !r.allows("text/html"));
        let any_image = FileRules {
            types: vec!["image/*".into()],
            ..FileRules::default()
        };
        assert!(any_image.allows("image/svg+xml") && !any_image.allows("application/pdf"));
        assert!(r.serves_thumb("100x100") && !r.serves_thumb("0x50"));
    }
}
