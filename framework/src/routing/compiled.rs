//! The compiled index: a flat copy of a route tree's path and method selectors that resolves the common
//! request without walking the tree, and gives exactly the walk's answer.
//!
//! # When it answers
//! The walk ([`resolve`](super::resolve)) explores every branch that can still win and compares the qualities
//! of the candidates it finds. The index instead searches depth first, trying a node's children best quality
//! first (a constant, then a parameter with a prefix or suffix, then a parameter, a wildcard, a tailcard), and
//! stops at the first route with handlers that matches the whole path. That first find is the walk's answer
//! when, at every node the search passes, the children that can match one segment have pairwise different
//! qualities: then the search meets the candidates in strictly decreasing order of their quality sequences,
//! which is the order the walk's comparison ([`is_better`](super::resolve)) ranks them in. At most one
//! constant child matches a segment, so the condition holds unless a node has two plain parameters (`{a}`
//! and `{b}`), two prefixed or suffixed ones, or two tailcards.
//!
//! A node is compiled as *opaque* (the search gives up when it reaches one, and the walk answers) when that
//! condition fails or when its subtree holds something the index does not model: an optional parameter, a
//! query, header, `Accept`, `Content-Type` or host selector, handlers on a route that is not a method route,
//! a method route with children, or a trailing-slash route with anything below it but method routes. Giving
//! up at an opaque node is exact: a candidate found before reaching it beat it where their paths parted.
//!
//! The index answers only requests whose path has at least one segment, no `%` and no trailing `/`, and
//! only when trailing slashes are significant and HEAD is not being treated as GET; a trailing-slash route
//! with only method routes below it can never match such a request, so the index leaves it out. Everything
//! else, and every request the index finds no route for (the walk then works out 404, 405 and the rest), goes
//! to the walk. The tests in `resolve_tests.rs` check the two against each other on generated trees.

use std::collections::HashMap;

use http::Method;
use smallvec::SmallVec;

use std::sync::Arc;

use super::resolve::{Captured, IndexMatch};
use super::route::{PipelinesCell, Route};
use super::selector::{Kind, quality, strip_affixes};

/// Up to this many constant children are compared one by one; more are hashed.
const LINEAR_CONSTANTS: usize = 8;

/// The compiled path and method selectors of a route tree (see the [module documentation](self)).
#[derive(Debug)]
pub(crate) struct CompiledTree {
    /// The root's own constant segments (the application's root path).
    root_segments: Box<[Box<str>]>,
    /// The nodes; the root is the first.
    nodes: Vec<Node>,
    /// The routes reached from the root through constants only, by their whole path (`/api/v1/users`): the
    /// first way the search would try, found with one lookup (see [`CompiledTree::resolve`]).
    constant_paths: HashMap<Box<str>, ConstantPath, rustc_hash::FxBuildHasher>,
    /// The lengths of the keys of `constant_paths`, a bit per length ([`length_bit`]): a path of another
    /// length is not looked up.
    constant_lengths: u64,
}

/// The bit of [`CompiledTree::constant_lengths`] for a path of `length` bytes (the last bit stands for every
/// length from 63 up).
#[inline]
fn length_bit(length: usize) -> u64 {
    1 << length.min(63)
}

/// A route reached from the root through constants only: its node, and its method routes with handlers.
#[derive(Debug)]
struct ConstantPath {
    node: u32,
    methods: Box<[MethodRoute]>,
}

/// One route of the tree: where it sits among its parent's children and the edges to its children.
#[derive(Debug, Default)]
struct Node {
    /// The route's position among its parent's children (unused for the root).
    position: u32,
    /// The parent's node (the root is its own parent).
    parent: u32,
    /// A trailing-slash child with only method routes below it: never reached by the search (see the
    /// [module documentation](self)), only through the constant path `/`.
    slash: Option<u32>,
    /// Which kinds of children the node has, a bit per [`Stage`] (`1 << Stage::Wildcard as u8`…).
    kinds: u8,
    /// The constant children are few and none holds `/` or `%`: they are matched in place.
    constants_in_place: bool,
    /// The search gives up here (see the [module documentation](self)).
    opaque: bool,
    constants: Constants,
    affixed: Option<Affixed>,
    parameter: Option<Parameter>,
    wildcard: Option<usize>,
    tailcard: Option<Tailcard>,
    /// The method routes with handlers: method and position among the children.
    methods: Box<[MethodRoute]>,
}

/// A method route with handlers: its method, its position among its parent's children, and the cell its
/// merged pipelines are kept in (shared with the route).
#[derive(Clone, Debug)]
struct MethodRoute {
    method: Method,
    position: u32,
    pipelines: Arc<PipelinesCell>,
}

/// The constant children by decoded segment.
#[derive(Debug, Default)]
enum Constants {
    #[default]
    None,
    Few(Box<[(Box<str>, usize)]>),
    /// FxHash, like the tree's own index (see [`Route`]): the keys are the application's segments.
    Many(HashMap<Box<str>, usize, rustc_hash::FxBuildHasher>),
}

impl Constants {
    /// The child whose constant is the segment at or after byte `offset` of `path` (empty segments skipped),
    /// and the offset after it, compared in place; only for [`Constants::Few`] whose keys hold no `/` or `%`
    /// (so a match is a whole segment that needs no decoding).
    #[inline]
    fn match_in_place(&self, path: &str, offset: usize) -> Option<(usize, usize)> {
        let Constants::Few(entries) = self else { return None };
        let bytes = path.as_bytes();
        let start = offset + bytes.get(offset..)?.iter().position(|&byte| byte != b'/')?;
        let rest = &bytes[start..];
        let first = rest[0];
        entries.iter().find_map(|(key, child)| {
            let key = key.as_bytes();
            // The first byte rules out most keys; the rest is compared byte by byte (keys are short, and a
            // call to `memcmp` costs more than the comparison).
            let whole = key.first() == Some(&first)
                && rest.len() >= key.len()
                && rest.iter().zip(key).skip(1).all(|(have, want)| have == want)
                && matches!(rest.get(key.len()), None | Some(b'/'));
            whole.then_some((*child, start + key.len()))
        })
    }

    #[inline]
    fn find(&self, segment: &str) -> Option<usize> {
        match self {
            Constants::None => None,
            Constants::Few(entries) => entries.iter().find(|(key, _)| **key == *segment).map(|(_, node)| *node),
            Constants::Many(map) => map.get(segment).copied(),
        }
    }
}

impl Node {
    /// The first kind of children, `stage` or a later one, that the node has.
    #[inline]
    fn next_kind(&self, stage: Stage) -> Option<Stage> {
        let later = self.kinds >> stage as u8;
        if later == 0 {
            return None;
        }
        Some(match stage as u8 + later.trailing_zeros() as u8 {
            0 => Stage::Constant,
            1 => Stage::Affixed,
            2 => Stage::Parameter,
            3 => Stage::Wildcard,
            _ => Stage::Tailcard,
        })
    }

    /// True if the node has children of kind `stage` or a later one.
    #[inline]
    fn has_from(&self, stage: Stage) -> bool {
        self.kinds >> stage as u8 != 0
    }
}

#[derive(Debug)]
struct Affixed {
    node: usize,
    name: &'static str,
    prefix: Box<str>,
    suffix: Box<str>,
}

#[derive(Debug)]
struct Parameter {
    node: usize,
    name: &'static str,
}

#[derive(Debug)]
struct Tailcard {
    node: usize,
    /// Empty for `{...}`, which captures nothing.
    name: &'static str,
    prefix: Box<str>,
}

/// The kinds of children a node's search tries, in this order (the order of their qualities).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// A constant child (or, with no segment left, a method route).
    Constant,
    Affixed,
    Parameter,
    Wildcard,
    Tailcard,
    /// Nothing left to try.
    Done,
}

impl Stage {
    fn after(self) -> Stage {
        match self {
            Stage::Constant => Stage::Affixed,
            Stage::Affixed => Stage::Parameter,
            Stage::Parameter => Stage::Wildcard,
            Stage::Wildcard => Stage::Tailcard,
            Stage::Tailcard | Stage::Done => Stage::Done,
        }
    }
}

/// A node to come back to if the child the search went down to finds nothing.
struct Frame {
    node: usize,
    offset: usize,
    /// The kind of children to try next.
    stage: Stage,
    captured: usize,
    worst: f64,
}

impl CompiledTree {
    /// Compiles the tree below `root`, a root route (other starting points are left to the walk).
    pub(crate) fn compile(root: &Route) -> Option<CompiledTree> {
        let Kind::Root { segments } = &root.selector().kind else { return None };
        let mut tree = CompiledTree {
            root_segments: segments.iter().map(|segment| segment.as_str().into()).collect(),
            nodes: Vec::new(),
            constant_paths: HashMap::default(),
            constant_lengths: 0,
        };
        tree.add(root, 0, 0);
        let mut prefix = String::new();
        for segment in &tree.root_segments {
            prefix.push('/');
            prefix.push_str(segment);
        }
        let mut constant_paths = HashMap::default();
        tree.collect_constant_paths(0, &mut prefix, &mut constant_paths);
        if let Some(entry) = tree.root_slash().filter(|_| tree.root_segments.is_empty()) {
            constant_paths.insert("/".into(), entry);
        }
        tree.constant_lengths = constant_paths.keys().fold(0, |lengths, key| lengths | length_bit(key.len()));
        tree.constant_paths = constant_paths;
        Some(tree)
    }

    /// For the request path `/`: the trailing-slash child of the root (`get("/")`), the walk's answer for
    /// every method route with handlers below it. With no segment, constants and parameters fail, a tailcard
    /// matches with a missing optional's quality, and a method route on the root itself loses to the longer
    /// path through the trailing slash; handlers on the root or on the trailing-slash route make them opaque.
    fn root_slash(&self) -> Option<ConstantPath> {
        let root = &self.nodes[0];
        let slash = root.slash?;
        let node = &self.nodes[slash as usize];
        if root.opaque || node.opaque || node.methods.is_empty() {
            return None;
        }
        Some(ConstantPath { node: slash, methods: node.methods.clone() })
    }

    /// The positions, each among its parent's children, of the routes from the root (excluded) down to
    /// `node`.
    pub(crate) fn positions_to(&self, node: u32) -> Vec<u32> {
        let mut positions = Vec::new();
        let mut current = node as usize;
        while current != 0 {
            let node = &self.nodes[current];
            positions.push(node.position);
            current = node.parent as usize;
        }
        positions.reverse();
        positions
    }

    /// Adds the routes below node `id` (at `path`) that are reached through
    /// constants only and non-opaque routes. A constant holding `/` or `%` once decoded is left out: no
    /// request path spells it the way the key would.
    fn collect_constant_paths(
        &self,
        id: usize,
        path: &mut String,
        found: &mut HashMap<Box<str>, ConstantPath, rustc_hash::FxBuildHasher>,
    ) {
        let node = &self.nodes[id];
        if node.opaque {
            return;
        }
        if !node.methods.is_empty() && id != 0 {
            let Ok(node_id) = u32::try_from(id) else { return };
            found.insert(path.as_str().into(), ConstantPath { node: node_id, methods: node.methods.clone() });
        }
        let children: Vec<(&str, usize)> = match &node.constants {
            Constants::None => Vec::new(),
            Constants::Few(entries) => entries.iter().map(|(key, child)| (&**key, *child)).collect(),
            Constants::Many(map) => map.iter().map(|(key, child)| (&**key, *child)).collect(),
        };
        for (segment, child) in children {
            if segment.contains(['/', '%']) {
                continue;
            }
            let length = path.len();
            path.push('/');
            path.push_str(segment);
            self.collect_constant_paths(child, path, found);
            path.truncate(length);
        }
    }

    /// Adds `route` (at `position` among the children of node `parent`) and its subtree; returns its node.
    fn add(&mut self, route: &Route, position: u32, parent: u32) -> usize {
        let id = self.nodes.len();
        self.nodes.push(Node::default());
        let mut node = Node { position, parent, ..Node::default() };
        let Ok(this) = u32::try_from(id) else {
            node.opaque = true;
            self.nodes[id] = node;
            return id;
        };
        let mut constants = Vec::new();
        let mut methods = Vec::new();
        let mut opaque = route.handler_count() > 0;
        for (position, child) in route.children().iter().enumerate() {
            let Ok(position) = u32::try_from(position) else {
                opaque = true;
                break;
            };
            if opaque {
                break;
            }
            match &child.selector().kind {
                Kind::Constant(value) => constants.push((value.as_str().into(), self.add(child, position, this))),
                Kind::Parameter { name, prefix, suffix, optional: false } if prefix.is_empty() && suffix.is_empty() => {
                    opaque = node.parameter.is_some();
                    node.parameter = Some(Parameter { node: self.add(child, position, this), name });
                }
                Kind::Parameter { name, prefix, suffix, optional: false } => {
                    opaque = node.affixed.is_some();
                    let (prefix, suffix) = (prefix.as_str().into(), suffix.as_str().into());
                    node.affixed = Some(Affixed { node: self.add(child, position, this), name, prefix, suffix });
                }
                Kind::Wildcard => {
                    opaque = node.wildcard.is_some();
                    node.wildcard = Some(self.add(child, position, this));
                }
                Kind::Tailcard { name, prefix } => {
                    opaque = node.tailcard.is_some();
                    let prefix = prefix.as_str().into();
                    node.tailcard = Some(Tailcard { node: self.add(child, position, this), name, prefix });
                }
                Kind::Method(method) => {
                    opaque = !child.children().is_empty();
                    if child.handler_count() > 0 {
                        let pipelines = Arc::clone(child.pipelines_cell());
                        methods.push(MethodRoute { method: method.clone(), position, pipelines });
                    }
                }
                Kind::TrailingSlash => {
                    opaque = !child
                        .children()
                        .iter()
                        .all(|below| below.selector().as_method().is_some() && below.children().is_empty());
                    if !opaque && node.slash.is_none() {
                        node.slash = u32::try_from(self.add(child, position, this)).ok();
                    }
                }
                _ => opaque = true,
            }
        }
        node.opaque = opaque;
        let kinds = [
            (!constants.is_empty(), Stage::Constant),
            (node.affixed.is_some(), Stage::Affixed),
            (node.parameter.is_some(), Stage::Parameter),
            (node.wildcard.is_some(), Stage::Wildcard),
            (node.tailcard.is_some(), Stage::Tailcard),
        ];
        node.kinds =
            kinds.iter().filter(|(present, _)| *present).fold(0, |kinds, (_, stage)| kinds | 1 << *stage as u8);
        node.methods = methods.into_boxed_slice();
        node.constants_in_place = (1..=LINEAR_CONSTANTS).contains(&constants.len())
            && constants.iter().all(|(key, _): &(Box<str>, usize)| !key.contains(['/', '%']));
        node.constants = match constants.len() {
            0 => Constants::None,
            1..=LINEAR_CONSTANTS => Constants::Few(constants.into_boxed_slice()),
            _ => Constants::Many(constants.into_iter().collect()),
        };
        self.nodes[id] = node;
        id
    }

    /// Resolves `method path`: the routes below the root and the leaf, with the path parameters pushed onto
    /// `captured`; `None` when the walk must answer: the request is not one the index handles, it reached an
    /// opaque node, or nothing matched.
    pub(crate) fn resolve<'r, 'a>(
        &'r self,
        captured: &mut Captured<'a>,
        method: &Method,
        path: &'a str,
    ) -> Option<IndexMatch<'r>> {
        let constant = match self.constant_lengths & length_bit(path.len()) {
            0 => None,
            _ => self.constant_paths.get(path),
        };
        if let Some(constant) = constant {
            // The search would go down this way first, through constants, and find the route at its end.
            if let Some(leaf) = constant.methods.iter().find(|leaf| leaf.method == *method) {
                return Some(IndexMatch {
                    tree: self,
                    node: constant.node,
                    method: leaf.position,
                    pipelines: &leaf.pipelines,
                    quality: quality::CONSTANT,
                });
            }
        }
        if path.ends_with('/') {
            return None;
        }
        let mut offset = 0;
        for expected in &self.root_segments {
            match next_segment(path, offset) {
                Ok(Some((segment, end))) if segment == &**expected => offset = end,
                _ => return None,
            }
        }
        // The path does not end with `/`, so a byte after `offset` starts a segment.
        if offset >= path.len() {
            return None;
        }
        self.search(captured, method, path, offset)
    }

    /// The depth-first search of the [module documentation](self), from the root at byte `offset` of the
    /// path: the lowest quality on the way when a route matched (its chain and parameters are then in
    /// `matched`), `None` when the walk must answer.
    fn search<'a>(
        &self,
        captured: &mut Captured<'a>,
        method: &Method,
        path: &'a str,
        offset: usize,
    ) -> Option<IndexMatch<'_>> {
        // The nodes to come back to, with the kind of children to try next there, if the way down finds nothing.
        let mut frames: SmallVec<[Frame; 4]> = SmallVec::new();
        let (mut id, mut offset, mut stage, mut worst) = (0, offset, Stage::Constant, quality::CONSTANT);
        loop {
            let node = &self.nodes[id];
            if node.opaque {
                return None;
            }
            // A few constants are matched in place, without finding the segment's end first. A constant is
            // the best quality, so going down to one leaves `worst` as it is.
            let mut constants_tried = false;
            if stage == Stage::Constant && node.constants_in_place {
                if let Some((child, end)) = node.constants.match_in_place(path, offset) {
                    if node.has_from(Stage::Affixed) {
                        let mark = captured.len();
                        frames.push(Frame { node: id, offset, stage: Stage::Affixed, captured: mark, worst });
                    }
                    (id, offset) = (child, end);
                    continue;
                }
                constants_tried = true;
            }
            let mark = captured.len();
            let mut step = None;
            match next_segment(path, offset).ok()? {
                None => {
                    // Every segment is consumed: a method route, else a tailcard that takes nothing.
                    if stage == Stage::Constant {
                        if let Some(leaf) = node.methods.iter().find(|leaf| leaf.method == *method) {
                            return Some(IndexMatch {
                                tree: self,
                                node: u32::try_from(id).ok()?,
                                method: leaf.position,
                                pipelines: &leaf.pipelines,
                                quality: worst,
                            });
                        }
                    }
                    if let Some(tailcard) = &node.tailcard {
                        if tailcard.prefix.is_empty() && stage <= Stage::Tailcard {
                            step = Some((tailcard.node, offset, quality::MISSING));
                        }
                    }
                    stage = Stage::Done;
                }
                Some((segment, next)) => {
                    while let Some(current) = node.next_kind(stage) {
                        stage = current.after();
                        step = match current {
                            Stage::Constant if constants_tried => None,
                            Stage::Constant => {
                                node.constants.find(segment).map(|child| (child, next, quality::CONSTANT))
                            }
                            Stage::Parameter => node.parameter.as_ref().map(|parameter| {
                                captured.push((parameter.name, segment));
                                (parameter.node, next, quality::PARAMETER)
                            }),
                            _ => self.try_other(node, current, segment, next, path, captured).ok()?,
                        };
                        if step.is_some() {
                            break;
                        }
                    }
                }
            }
            match step {
                Some((child, end, quality)) => {
                    if node.has_from(stage) {
                        frames.push(Frame { node: id, offset, stage, captured: mark, worst });
                    }
                    (id, offset, stage) = (child, end, Stage::Constant);
                    if quality < worst {
                        worst = quality;
                    }
                }
                None => {
                    let frame = frames.pop()?;
                    captured.truncate(frame.captured);
                    (id, offset, stage, worst) = (frame.node, frame.offset, frame.stage, frame.worst);
                }
            }
        }
    }

    /// Tries the children of `node` of kind `stage` (a prefixed or suffixed parameter, a wildcard or a
    /// tailcard) on `segment`, which ends at byte `next`: the child that matched, where its segments end and
    /// its quality, with what it captured pushed onto `matched`; `Err(())` when a segment a tailcard takes
    /// needs decoding.
    #[inline(never)]
    fn try_other<'a>(
        &self,
        node: &Node,
        stage: Stage,
        segment: &'a str,
        next: usize,
        path: &'a str,
        captured: &mut Captured<'a>,
    ) -> Result<Option<(usize, usize, f64)>, ()> {
        match stage {
            Stage::Affixed => {
                let Some(affixed) = &node.affixed else { return Ok(None) };
                let Some(value) = strip_affixes(segment, &affixed.prefix, &affixed.suffix) else { return Ok(None) };
                captured.push((affixed.name, value));
                Ok(Some((affixed.node, next, quality::PARAMETER_WITH_PREFIX_OR_SUFFIX)))
            }
            Stage::Wildcard => Ok(node.wildcard.map(|child| (child, next, quality::WILDCARD))),
            Stage::Tailcard => {
                let Some(tailcard) = &node.tailcard else { return Ok(None) };
                let Some(first) = segment.strip_prefix(&*tailcard.prefix) else { return Ok(None) };
                if tailcard.name.is_empty() {
                    if path[next..].contains('%') {
                        return Err(());
                    }
                } else {
                    captured.push((tailcard.name, first));
                    let mut offset = next;
                    while let Some((segment, after)) = next_segment(path, offset)? {
                        captured.push((tailcard.name, segment));
                        offset = after;
                    }
                }
                Ok(Some((tailcard.node, path.len(), quality::TAILCARD)))
            }
            Stage::Constant | Stage::Parameter | Stage::Done => Ok(None),
        }
    }
}

/// The segment of `path` at or after byte `offset` (skipping slashes, so empty segments do not count) and the
/// offset just after it: `Ok(None)` when only slashes are left, `Err(())` when the segment holds a `%` (it
/// needs decoding: the walk answers). Every segment a match consumes passes through here, so the path is
/// checked for escapes in the same pass that splits it.
#[inline]
fn next_segment(path: &str, offset: usize) -> Result<Option<(&str, usize)>, ()> {
    let bytes = path.as_bytes();
    let Some(start) = bytes.get(offset..).and_then(|rest| rest.iter().position(|&byte| byte != b'/')) else {
        return Ok(None);
    };
    let start = offset + start;
    let mut end = start;
    while end < bytes.len() {
        match bytes[end] {
            b'/' => break,
            b'%' => return Err(()),
            _ => end += 1,
        }
    }
    Ok(Some((&path[start..end], end)))
}
