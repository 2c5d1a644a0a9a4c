//! `labels`, `commonLabels` and `commonAnnotations`: writes key/value pairs into metadata and,
//! per kustomize's field specs, into pod templates, selectors and volume claim templates.
//! Must not: change names or namespaces.

use crate::manifest::{Node, Pos};

use super::fieldspec::{self, FieldSpec, Leaf, visit};
use super::file::Kustomization;
use super::{Ctx, Res, origin_pos};
use crate::render::RenderError;

pub fn run(ctx: &Ctx<'_>, k: &Kustomization, ra: &mut [Res]) -> Result<(), RenderError> {
    for l in &k.labels {
        if l.pairs.is_empty() {
            continue;
        }
        let fields = if l.include_selectors {
            fieldspec::merge(l.fields.clone(), fieldspec::common_labels())
        } else {
            let mut f = l.fields.clone();
            if l.include_templates {
                f = fieldspec::merge(f, fieldspec::template_labels());
            }
            fieldspec::merge(f, vec![FieldSpec::new("", "", "", "metadata/labels", true)])
        };
        apply_pairs(ctx, ra, &l.pairs, &fields, l.pos)?;
    }
    if !k.common_labels.is_empty() {
        apply_pairs(
            ctx,
            ra,
            &k.common_labels,
            &fieldspec::common_labels(),
            k.common_labels_pos,
        )?;
    }
    if !k.common_annotations.is_empty() {
        apply_pairs(
            ctx,
            ra,
            &k.common_annotations,
            &fieldspec::common_annotations(),
            k.common_annotations_pos,
        )?;
    }
    Ok(())
}

fn apply_pairs(
    ctx: &Ctx<'_>,
    ra: &mut [Res],
    pairs: &[(String, String)],
    fields: &[FieldSpec],
    pos: Pos,
) -> Result<(), RenderError> {
    let segments: Vec<Vec<String>> = fields.iter().map(FieldSpec::segments).collect();
    for r in ra.iter_mut() {
        let id = r.cur_id();
        let at = origin_pos(&r.obj.origin);
        for (spec, segs) in fields.iter().zip(&segments) {
            if !spec.matches(&id.group, &id.version, &id.kind) {
                continue;
            }
            visit(r.node_mut(), segs, spec.create, Leaf::Map, &mut |m| {
                if !m.is_map() {
                    return Err(format!("`{}` is not a mapping", spec.path));
                }
                for (k, v) in pairs {
                    m.set(k, Node::string(v.as_str()).at(pos));
                }
                Ok(())
            })
            .map_err(|e| {
                ctx.err(
                    at,
                    format!("setting labels or annotations at {}: {e}", spec.path),
                )
            })?;
        }
    }
    Ok(())
}
