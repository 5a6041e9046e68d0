//! `expand=a,b.c` and `fields=…`: related records embedded where the caller
//! may view them, and the keys a response keeps.
use serde_json::{Value, json};

use super::call::{Pb, Result};
use super::record::record_json;
use crate::domain::collections::Collection;
use crate::domain::users;
use crate::error::AppError;

/// `fields=id,name,expand.following`: keeps only the named keys (`*` keeps all).
pub fn select_fields(records: &mut [Value], fields: Option<&str>) {
    let Some(fields) = fields.filter(|f| !f.trim().is_empty()) else {
        return;
    };
    let names: Vec<&str> = fields
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    if names.contains(&"*") {
        return;
    }
    for r in records.iter_mut() {
        if let Some(obj) = r.as_object_mut() {
            obj.retain(|k, _| {
                names
                    .iter()
                    .any(|n| n == k || (k == "expand" && n.starts_with("expand")))
            });
            if let Some(Value::Object(expanded)) = obj.get_mut("expand") {
                let wanted: Vec<&str> = names
                    .iter()
                    .filter_map(|n| n.strip_prefix("expand."))
                    .collect();
                if !wanted.contains(&"*") && !names.contains(&"expand") {
                    expanded.retain(|k, _| {
                        wanted
                            .iter()
                            .any(|w| w.split('.').next() == Some(k.as_str()))
                    });
                }
            }
        }
    }
}

/// Most nested levels `expand` follows, as in PocketBase.
const MAX_EXPAND_DEPTH: usize = 6;

/// Fills `record.expand.<relation>` for `expand=a,b.c`, one query per level.
/// Related records appear only where the caller may view them (superusers:
/// all; users: their own record).
pub async fn expand(
    call: &Pb,
    coll: &Collection,
    records: &mut [Value],
    param: &str,
) -> Result<()> {
    let paths: Vec<Vec<String>> = param
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.split('.').map(str::to_owned).collect())
        .collect();
    let mut tree = ExpandTree::default();
    for path in &paths {
        if path.len() > MAX_EXPAND_DEPTH
            || path
                .iter()
                .any(|seg| crate::domain::profile::check_key(seg).is_err())
        {
            return Err(AppError::validation(
                "expand",
                format!("cannot expand `{}`", path.join(".")),
            )
            .into());
        }
        let mut node = &mut tree;
        for seg in path {
            node = node.0.entry(seg.clone()).or_default();
        }
    }
    expand_tree(call, coll, records, &tree).await
}

/// `expand=a.b,a.c` as a tree: `a` is loaded once, then `b` and `c` on it.
#[derive(Default)]
struct ExpandTree(std::collections::BTreeMap<String, ExpandTree>);

async fn expand_tree(
    call: &Pb,
    coll: &Collection,
    records: &mut [Value],
    tree: &ExpandTree,
) -> Result<()> {
    let (svc, caller) = (call.services(), &call.caller);
    let project_id = &caller.project()?.id;
    for (field, subtree) in &tree.0 {
        // Only records the caller may view in full are expanded (PocketBase's
        // view rule on the related collection).
        let profiles = records.iter().map(|r| (r, field.as_str()));
        let found =
            users::load_related(&svc.db, project_id, profiles, |id| caller.may_manage(id)).await?;
        for r in records.iter_mut() {
            let ids = users::relation_ids(r, field);
            let many = users::relation_is_many(r, field);
            let mut related: Vec<Value> = ids
                .iter()
                .filter_map(|id| found.get(id))
                .map(|u| record_json(u, coll, true))
                .collect();
            if related.is_empty() {
                continue;
            }
            if !subtree.0.is_empty() {
                Box::pin(expand_tree(call, coll, &mut related, subtree)).await?;
            }
            let value = if many {
                Value::Array(related)
            } else {
                related.swap_remove(0)
            };
            let slot = r
                .as_object_mut()
                .expect("records are objects")
                .entry("expand")
                .or_insert_with(|| json!({}));
            slot[field.as_str()] = value;
        }
    }
    Ok(())
}
