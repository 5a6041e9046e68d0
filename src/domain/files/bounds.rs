//! What one upload request may carry before anyone knows which field a file
//! is for (GraphQL's multipart request names its fields only in the
//! operation it runs after the body is read): the largest file any file
//! field of the project accepts, and the most files a change could hold.
use super::rules::{FileRules, MAX_MAX_SIZE};
use crate::domain::collections::{self, Collection, FieldType};
use crate::domain::services::Services;
use crate::error::AppResult;

/// Files of undeclared fields one request may carry, where a collection
/// accepts them (each holds one file).
pub const UNDECLARED_FILES: u32 = 10;
/// The most files one request may carry, whatever the fields declare.
pub const MAX_FILES: u32 = 100;

/// The bounds of one upload request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadBounds {
    /// The largest file (bytes): the largest `max_size` of any file field.
    pub max_file_size: u64,
    /// The most files (at least 1, so a refused file is named by its field).
    pub max_files: u32,
}

/// The bounds for a project's collections.
pub fn bounds_of(collections: &[Collection]) -> UploadBounds {
    let mut max_file_size = 0;
    let mut max_files = 1;
    for c in collections {
        let mut files = 0u32;
        for f in c.fields.iter().filter(|f| f.field_type == FieldType::File) {
            let rules = FileRules::of(Some(f));
            max_file_size = max_file_size.max(rules.max_size);
            files = files.saturating_add(rules.max_select);
        }
        if c.settings.allow_undeclared_fields {
            max_file_size = max_file_size.max(FileRules::default().max_size);
            files = files.saturating_add(UNDECLARED_FILES);
        }
        max_files = max_files.max(files);
    }
    UploadBounds {
        max_file_size: max_file_size.clamp(1, MAX_MAX_SIZE),
        max_files: max_files.min(MAX_FILES),
    }
}

/// The bounds for the project `project_id` (`None`: no project, so no file
/// can be stored; the request still gets its answer about why).
pub async fn upload_bounds(svc: &Services, project_id: Option<&str>) -> AppResult<UploadBounds> {
    let collections = match project_id {
        Some(id) => collections::of_project(&svc.db, id).await?,
        None => vec![],
    };
    Ok(bounds_of(&collections))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::collections::{CollectionSettings, FieldDecl};

    fn collection(undeclared: bool, fields: Vec<FieldDecl>) -> Collection {
        Collection {
            id: "c".into(),
            project_id: "p".into(),
            name: "users".into(),
            settings: CollectionSettings {
                allow_undeclared_fields: undeclared,
                ..CollectionSettings::default()
            },
            fields,
        }
    }

    fn file(name: &str, max_size: Option<u64>, max_select: Option<u32>) -> FieldDecl {
        FieldDecl {
            name: name.into(),
            field_type: FieldType::File,
            many: max_select.is_some_and(|n| n > 1),
            max_size,
            max_select,
            ..FieldDecl::default()
        }
    }

    #[test]
    fn the_largest_declared_size_and_the_files_a_change_could_hold() {
        let strict = collection(
            false,
            vec![
                file("tiny", Some(1024), None),
                file("cv", Some(20 << 20), Some(3)),
            ],
        );
        assert_eq!(
            bounds_of(&[strict.clone()]),
            UploadBounds {
                max_file_size: 20 << 20,
                max_files: 4
            }
        );
        let open = collection(true, vec![file("tiny", Some(1024), None)]);
        assert_eq!(
            bounds_of(&[open]),
            UploadBounds {
                max_file_size: FileRules::default().max_size,
                max_files: 1 + UNDECLARED_FILES
            }
        );
        // No file field anywhere: one byte, one file (refused by its field).
        let none = collection(false, vec![]);
        assert_eq!(
            bounds_of(&[none]),
            UploadBounds {
                max_file_size: 1,
                max_files: 1
            }
        );
    }
}
