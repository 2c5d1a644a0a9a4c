//! The `namespace` field: sets `metadata.namespace` on namespaced objects, the namespace of
//! RoleBinding/ClusterRoleBinding subjects named `default` (kustomize's default mode), and the
//! other namespace fields of its field specs (APIService, CRD conversion webhooks).
//! Must not: rename objects.

use crate::manifest::Node;

use super::fieldspec::{self, Leaf, visit};
use super::file::Kustomization;
use super::{Ctx, Res, check_unique, origin_pos};
use crate::render::RenderError;

pub fn run(ctx: &Ctx<'_>, k: &Kustomization, ra: &mut [Res]) -> Result<(), RenderError> {
    let Some(ns) = &k.namespace else {
        return Ok(());
    };
    let specs = fieldspec::namespace_fields();
    let value = || Node::string(ns.value.as_str()).at(ns.pos);
    for r in ra.iter_mut() {
        if !r.node().is_map() {
            continue;
        }
        r.store_prev();
        let id = r.cur_id();
        if !id.is_cluster_scoped()
            && let Some(meta) = r.node_mut().map_at("metadata")
        {
            meta.set("namespace", value());
        }
        if (id.kind == "RoleBinding" || id.kind == "ClusterRoleBinding")
            && let Some(items) = r.node_mut().get_mut("subjects").and_then(Node::items_mut)
        {
            for s in items.iter_mut() {
                if s.path_name(&["name"]) == Some("default") && s.is_map() {
                    s.set("namespace", value());
                }
            }
        }
        for spec in specs
            .iter()
            .filter(|s| s.matches(&id.group, &id.version, &id.kind))
        {
            let pos = origin_pos(&r.obj.origin);
            visit(
                r.node_mut(),
                &spec.segments(),
                spec.create,
                Leaf::Scalar,
                &mut |n| {
                    *n = value();
                    Ok(())
                },
            )
            .map_err(|m| ctx.err(pos, format!("namespace transformation failed: {m}")))?;
        }
    }
    check_unique(
        ctx,
        ra,
        "collides with another object after setting the namespace",
    )
}
