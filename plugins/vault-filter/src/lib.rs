//! The walk over a vault query's filter tree, shared by the engine adapters. The tree
//! arrives flat (WIT cannot be recursive): nodes in one list, children by index. The
//! walk looks each index up, bounds the depth, and leaves each engine only what
//! differs: how a leaf condition, a conjunction, a disjunction and a negation are
//! written in its SQL dialect.

/// How deep a filter may nest before it is refused (the host bounds it well below).
pub const MAX_DEPTH: u32 = 64;

/// A node as the walk sees it: a leaf for the dialect, or a connective over children.
pub enum Node<'a, Leaf> {
    /// A condition on one field.
    Leaf(&'a Leaf),
    /// Every child holds.
    All(&'a [u32]),
    /// Some child holds.
    Any(&'a [u32]),
    /// The child does not hold.
    Not(u32),
}

/// Why a tree cannot be walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalkError {
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A child index names no node.
    Missing(u32),
}

impl std::fmt::Display for WalkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WalkError::TooDeep => write!(f, "the filter is nested too deeply"),
            WalkError::Missing(index) => write!(f, "filter node {index} does not exist"),
        }
    }
}

/// How one engine writes a condition.
pub trait Dialect {
    /// The leaf conditions of the tree.
    type Leaf;
    /// The engine's error, which a [`WalkError`] becomes.
    type Error: From<WalkError>;
    /// A leaf condition.
    fn leaf(&mut self, leaf: &Self::Leaf) -> Result<String, Self::Error>;
    /// The conjunction of `parts` (none: always true).
    fn all(&mut self, parts: Vec<String>) -> String;
    /// The disjunction of `parts` (none: always false).
    fn any(&mut self, parts: Vec<String>) -> String;
    /// The negation of `part`.
    fn not(&mut self, part: String) -> String;
}

/// Writes the condition of the tree rooted at `root`; `node` reads a node by index.
pub fn walk<'a, D, F>(dialect: &mut D, node: &F, root: u32) -> Result<String, D::Error>
where
    D: Dialect,
    D::Leaf: 'a,
    F: Fn(u32) -> Option<Node<'a, D::Leaf>>,
{
    walk_at(dialect, node, root, 0)
}

fn walk_at<'a, D, F>(dialect: &mut D, node: &F, index: u32, depth: u32) -> Result<String, D::Error>
where
    D: Dialect,
    D::Leaf: 'a,
    F: Fn(u32) -> Option<Node<'a, D::Leaf>>,
{
    if depth > MAX_DEPTH {
        return Err(WalkError::TooDeep.into());
    }
    let children = |dialect: &mut D, indices: &[u32]| {
        indices
            .iter()
            .map(|child| walk_at(dialect, node, *child, depth + 1))
            .collect::<Result<Vec<_>, _>>()
    };
    match node(index).ok_or(WalkError::Missing(index))? {
        Node::Leaf(leaf) => dialect.leaf(leaf),
        Node::All(indices) => {
            let parts = children(dialect, indices)?;
            Ok(dialect.all(parts))
        }
        Node::Any(indices) => {
            let parts = children(dialect, indices)?;
            Ok(dialect.any(parts))
        }
        Node::Not(child) => {
            let part = walk_at(dialect, node, child, depth + 1)?;
            Ok(dialect.not(part))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dialect of letters: leaves are their own text.
    struct Letters;

    impl Dialect for Letters {
        type Leaf = &'static str;
        type Error = WalkError;
        fn leaf(&mut self, leaf: &&'static str) -> Result<String, WalkError> {
            Ok((*leaf).to_owned())
        }
        fn all(&mut self, parts: Vec<String>) -> String {
            format!("({})", parts.join(" & "))
        }
        fn any(&mut self, parts: Vec<String>) -> String {
            format!("({})", parts.join(" | "))
        }
        fn not(&mut self, part: String) -> String {
            format!("!{part}")
        }
    }

    enum Flat {
        Leaf(&'static str),
        All(Vec<u32>),
        Any(Vec<u32>),
        Not(u32),
    }

    fn lookup<'a>(nodes: &'a [Flat]) -> impl Fn(u32) -> Option<Node<'a, &'static str>> + 'a {
        move |index| {
            Some(match nodes.get(index as usize)? {
                Flat::Leaf(text) => Node::Leaf(text),
                Flat::All(children) => Node::All(children),
                Flat::Any(children) => Node::Any(children),
                Flat::Not(child) => Node::Not(*child),
            })
        }
    }

    #[test]
    fn a_flat_tree_is_written_from_its_root() {
        let nodes = [
            Flat::Leaf("a"),
            Flat::Leaf("b"),
            Flat::Any(vec![0, 1]),
            Flat::Not(2),
            Flat::All(vec![3, 0]),
        ];
        assert_eq!(
            walk(&mut Letters, &lookup(&nodes), 4),
            Ok("(!(a | b) & a)".to_owned())
        );
    }

    #[test]
    fn stray_indices_and_cycles_are_refused() {
        let nodes = [Flat::All(vec![7])];
        assert_eq!(
            walk(&mut Letters, &lookup(&nodes), 0),
            Err(WalkError::Missing(7))
        );
        let cycle = [Flat::Not(0)];
        assert_eq!(
            walk(&mut Letters, &lookup(&cycle), 0),
            Err(WalkError::TooDeep)
        );
    }
}
