//! `patches`, `patchesStrategicMerge` and `patchesJson6902`: loading patch bodies (files or
//! inline), telling strategic-merge from JSON patches, choosing targets (by the patch's own
//! identity, or by a `target` selector), and applying them while keeping kind, name and
//! namespace unless the patch options allow a change.
//! Must not: implement merge semantics itself (see `smp` and `json6902`).

use crate::manifest::{Node, Pos};

use super::file::{Kustomization, PatchArgs, PatchBody};
use super::selector::Selector;
use super::smp::{Merged, Patcher};
use super::{Ctx, Res, ResId, json6902};
use crate::render::RenderError;

/// Patch documents with positions; inline patches are positioned in the kustomization file.
fn load(ctx: &mut Ctx<'_>, k: &Kustomization, args: &PatchArgs) -> Result<Vec<Node>, RenderError> {
    match &args.body {
        PatchBody::File(path) => ctx.read_yaml(&k.dir, path, args.pos),
        PatchBody::Inline(text) => {
            let mut docs = ctx
                .parse_yaml(text, k.file)
                .map_err(|e| ctx.err(args.pos, format!("inline patch: {}", e.message)))?;
            for d in &mut docs {
                shift_lines(d, args.pos.line);
            }
            Ok(docs)
        }
    }
}

/// Inline patch text starts on the line after `patch: |`; make its lines file lines.
fn shift_lines(node: &mut Node, by: u32) {
    node.pos.line += by;
    match &mut node.value {
        crate::manifest::Value::Map(entries) => {
            for e in entries {
                e.key.pos.line += by;
                shift_lines(&mut e.value, by);
            }
        }
        crate::manifest::Value::Seq(items) => items.iter_mut().for_each(|i| shift_lines(i, by)),
        crate::manifest::Value::Scalar(..) => {}
    }
}

/// kustomize's ResMap.Select: name and namespace match the original or current ones.
pub fn select(ra: &[Res], sel: &Selector) -> Vec<usize> {
    ra.iter()
        .enumerate()
        .filter(|(_, r)| {
            let cur = r.cur_id();
            let org = r.org_id();
            (sel.matches_namespace(org.effective_namespace())
                || sel.matches_namespace(cur.effective_namespace()))
                && (sel.matches_name(&org.name) || sel.matches_name(&cur.name))
                && sel.matches_gvk(&cur.group, &cur.version, &cur.kind)
                && sel.matches_metadata(r.node())
        })
        .map(|(i, _)| i)
        .collect()
}

/// The one object a targetless strategic-merge patch applies to, found by its identity.
fn find_target(ctx: &Ctx<'_>, ra: &[Res], patch: &Node) -> Result<usize, RenderError> {
    let id = ResId::of(patch);
    if id.kind.is_empty() || id.name.is_empty() {
        return Err(ctx.err(
            patch.pos,
            "a strategic-merge patch without `target` needs apiVersion, kind and metadata.name to find its object",
        ));
    }
    let matches: Vec<usize> = ra
        .iter()
        .enumerate()
        .filter(|(_, r)| r.any_id_matches(|x| x.equals(&id)))
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [i] => Ok(*i),
        [] => Err(ctx.err(
            patch.pos,
            format!(
                "no object matches this patch ({}); check its apiVersion, kind, name and namespace",
                id.describe()
            ),
        )),
        _ => Err(ctx.err(
            patch.pos,
            format!(
                "this patch ({}) matches {} objects; add a namespace to pick one",
                id.describe(),
                matches.len()
            ),
        )),
    }
}

/// Applies a strategic-merge patch to `ra[i]`; returns false when the patch deleted it.
fn apply_smp(
    ctx: &Ctx<'_>,
    r: &mut Res,
    patch: &Node,
    allow_name_change: bool,
    allow_kind_change: bool,
) -> Result<bool, RenderError> {
    let (name, ns, kind) = (
        r.name().to_string(),
        r.obj.namespace().map(str::to_string),
        r.obj.kind().to_string(),
    );
    if allow_name_change || allow_kind_change {
        r.store_prev();
    }
    let group = r.obj.group().to_string();
    let api_version = r.obj.api_version().to_string();
    let merged = Patcher {
        group: &group,
        kind: &kind,
    }
    .apply(r.node_mut(), patch)
    .map_err(|m| ctx.err(patch.pos, format!("strategic-merge patch: {m}")))?;
    if merged == Merged::Delete || r.node().entries().is_empty() {
        return Ok(false);
    }
    if !allow_kind_change {
        r.node_mut()
            .set("apiVersion", Node::string(api_version.as_str()));
        r.node_mut().set("kind", Node::string(kind.as_str()));
    }
    if !allow_name_change {
        r.set_name(&name);
    }
    if let Some(meta) = r.node_mut().map_at("metadata") {
        match ns {
            Some(ns) => meta.set("namespace", Node::string(ns.as_str())),
            None => {
                meta.remove("namespace");
            }
        }
    }
    note_patch(r, patch.pos);
    Ok(true)
}

fn note_patch(r: &mut Res, pos: Pos) {
    if r.obj.origin.via.last() != Some(&pos.file) {
        r.obj.origin.via.push(pos.file);
    }
}

pub fn strategic_merge_list(
    ctx: &mut Ctx<'_>,
    k: &Kustomization,
    ra: &mut Vec<Res>,
) -> Result<(), RenderError> {
    for args in &k.patches_strategic_merge {
        for patch in load(ctx, k, args)? {
            let i = find_target(ctx, ra, &patch)?;
            if !apply_smp(ctx, &mut ra[i], &patch, false, false)? {
                ra.remove(i);
            }
        }
    }
    Ok(())
}

pub fn unified(ctx: &mut Ctx<'_>, k: &Kustomization, ra: &mut Vec<Res>) -> Result<(), RenderError> {
    for args in &k.patches {
        let docs = load(ctx, k, args)?;
        let is_json = docs.len() == 1 && docs[0].is_seq();
        if is_json {
            let Some(target) = &args.target else {
                return Err(ctx.err(
                    args.pos,
                    "a JSON patch (a list of operations) needs a `target`",
                ));
            };
            let ops = json6902::parse_ops(&docs[0]).map_err(|m| ctx.err(docs[0].pos, m))?;
            apply_json(ctx, ra, target, &ops, args, docs[0].pos)?;
            continue;
        }
        if docs.iter().any(|d| !d.is_map()) {
            return Err(ctx.err(
                args.pos,
                "a patch must be a strategic-merge mapping or a JSON patch list",
            ));
        }
        match &args.target {
            None => {
                for patch in &docs {
                    let i = find_target(ctx, ra, patch)?;
                    if !apply_smp(
                        ctx,
                        &mut ra[i],
                        patch,
                        args.allow_name_change,
                        args.allow_kind_change,
                    )? {
                        ra.remove(i);
                    }
                }
            }
            Some(target) => {
                for patch in &docs {
                    let selected = select(ra, target);
                    let mut deleted = Vec::new();
                    for i in selected {
                        if !apply_smp(
                            ctx,
                            &mut ra[i],
                            patch,
                            args.allow_name_change,
                            args.allow_kind_change,
                        )? {
                            deleted.push(i);
                        }
                    }
                    for i in deleted.into_iter().rev() {
                        ra.remove(i);
                    }
                }
            }
        }
    }
    Ok(())
}

pub fn json6902_list(
    ctx: &mut Ctx<'_>,
    k: &Kustomization,
    ra: &mut [Res],
) -> Result<(), RenderError> {
    for args in &k.patches_json6902 {
        let docs = load(ctx, k, args)?;
        let Some(doc) = docs.first() else {
            continue;
        };
        let ops = json6902::parse_ops(doc).map_err(|m| ctx.err(doc.pos, m))?;
        let Some(target) = &args.target else { continue };
        apply_json(ctx, ra, target, &ops, args, doc.pos)?;
    }
    Ok(())
}

fn apply_json(
    ctx: &Ctx<'_>,
    ra: &mut [Res],
    target: &Selector,
    ops: &[json6902::Op],
    args: &PatchArgs,
    pos: Pos,
) -> Result<(), RenderError> {
    for i in select(ra, target) {
        let r = &mut ra[i];
        let (name, kind) = (r.name().to_string(), r.obj.kind().to_string());
        r.store_prev();
        json6902::apply(r.node_mut(), ops)
            .map_err(|m| ctx.err(pos, format!("JSON patch on {}: {m}", r.obj.id())))?;
        if !args.allow_name_change && r.name() != name {
            return Err(ctx.err(pos, format!(
                "this JSON patch renames {kind} `{name}`; set `options: {{allowNameChange: true}}` if that is intended"
            )));
        }
        if !args.allow_kind_change && r.obj.kind() != kind {
            return Err(ctx.err(pos, format!(
                "this JSON patch changes the kind of `{name}`; set `options: {{allowKindChange: true}}` if that is intended"
            )));
        }
        note_patch(r, pos);
    }
    Ok(())
}
