//! `replicas`: sets `spec.replicas` of the named Deployments, ReplicaSets,
//! ReplicationControllers and StatefulSets (by original or current name); a name that matches
//! none of them is an error, as in kustomize.
//! Must not: touch other fields.

use super::fieldspec::{self, Leaf, visit};
use super::file::Kustomization;
use super::{Ctx, Res};
use crate::render::RenderError;

pub fn run(ctx: &Ctx<'_>, k: &Kustomization, ra: &mut [Res]) -> Result<(), RenderError> {
    let specs = fieldspec::replicas();
    for rep in &k.replicas {
        let mut found = false;
        for spec in &specs {
            let segs = spec.segments();
            for r in ra.iter_mut() {
                if !r.any_id_matches(|id| {
                    id.name == rep.name.as_str()
                        && id.gvk_selected_by(&spec.group, &spec.version, &spec.kind)
                }) {
                    continue;
                }
                found = true;
                let count = rep.count.clone();
                visit(r.node_mut(), &segs, true, Leaf::Scalar, &mut |n| {
                    *n = count.clone();
                    Ok(())
                })
                .map_err(|m| ctx.err(rep.pos, m))?;
            }
        }
        if !found {
            return Err(ctx.err(
                rep.pos,
                format!(
                    "replicas: no Deployment, ReplicaSet, ReplicationController or StatefulSet named `{}`",
                    rep.name
                ),
            ));
        }
    }
    Ok(())
}
