//! A build-time rewrite of the model source burn-onnx generates: each hard-swish written out
//! as six to eight element-wise tensor operations becomes one call of
//! [`crate::fused::hard_swish`], which makes one pass over the tensor instead of eight (each
//! of which reads and writes the whole activation and allocates a new one).
//!
//! PP-LCNetV3 (the PP-OCRv4 backbones and the angle classifier) exports every activation as
//!
//! ```text
//! a = k1 * x          (optional: a learnable scale and bias on the convolution's output)
//! b = a + k2
//! c = b + k3          (k3 = 3)
//! d = clamp(c, 0, 6)
//! e = b * d
//! f = e / k4          (k4 = 6)
//! g = k5 * f          (optional: the learnable affine after the activation)
//! h = g + k6
//! ```
//!
//! with every `k` a one-element constant. The fused call computes exactly these operations, in
//! this order, in `f32`, so its output is bit for bit the unfused graph's (a unit test in
//! `fused` checks it against Burn's own operations).
//!
//! The rewrite only touches a chain it matches completely, whose intermediate values nothing
//! else reads; anything else is left as generated.
//!
//! It also routes layers through [`crate::fused`]: every `self.FIELD.forward(` of a field
//! declared as one of the [`ROUTES`] types (convolutions, batch norms, global pools,
//! transposed convolutions), and every softmax and sigmoid. Each routed function takes what
//! Burn's layer takes and picks its own kernel or Burn's per call.
//!
//! This file is shared by `build.rs` (through `#[path]`) and the crate's unit tests, so it
//! depends on nothing but `std`.

use std::collections::HashMap;

/// The rewritten source, how many chains were fused and how many calls were routed.
pub struct Rewritten {
    /// The model source with each matched chain replaced.
    pub source: String,
    /// How many chains were replaced.
    pub fused: usize,
    /// How many `Conv2d` calls now go through [`crate::fused::conv2d`].
    pub convs: usize,
    /// How many softmaxes now go through [`crate::fused::softmax`].
    pub softmaxes: usize,
    /// How many calls of the other layers in [`ROUTES`] and of the sigmoid were routed.
    pub others: usize,
}

/// Layers whose `self.FIELD.forward(` calls go to a function of [`crate::fused`] that takes
/// the layer and its input (and picks Burn's own path for what it does not handle): the
/// field's declared type, and the function.
pub const ROUTES: [(&str, &str); 4] = [
    ("Conv2d", "conv2d"),
    ("BatchNorm", "batch_norm"),
    ("AdaptiveAvgPool2d", "adaptive_avg_pool2d"),
    ("ConvTranspose2d", "conv_transpose2d"),
];

/// One `let NAME = EXPR;` statement of the generated source: its lines and its text with all
/// whitespace removed.
struct Stmt {
    first: usize,
    last: usize,
    name: String,
    rhs: String,
}

/// Rewrites every matched chain of `source`. Chains are matched within one function at a
/// time (generated functions reuse names: a submodule's result and its caller's variable).
pub fn rewrite(source: &str) -> Rewritten {
    let (mut source, mut convs, mut others) = (source.to_owned(), 0, 0);
    for (ty, function) in ROUTES {
        let routed;
        (source, routed) = route(&source, ty, function);
        if ty == "Conv2d" {
            convs = routed;
        } else {
            others += routed;
        }
    }
    let softmaxes = source.matches(SOFTMAX).count();
    others += source.matches(SIGMOID).count();
    let source = source
        .replace(SOFTMAX, "crate::fused::softmax(")
        .replace(SIGMOID, "crate::fused::sigmoid(");
    let source = source.as_str();
    let lines: Vec<&str> = source.lines().collect();
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start();
            t.starts_with("pub fn ") || t.starts_with("fn ")
        })
        .map(|(n, _)| n)
        .chain([lines.len()])
        .collect();
    let mut drop_lines = vec![false; lines.len()];
    let mut insert: HashMap<usize, String> = HashMap::new();
    let mut fused = 0;
    for span in starts.windows(2) {
        let (from, to) = (span[0], span[1]);
        let body = lines[from..to].join("\n");
        let stmts = statements(&lines, from, to);
        let by_name: HashMap<&str, usize> = stmts
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), i))
            .collect();
        if by_name.len() != stmts.len() {
            continue; // a name bound twice in one function: leave it as generated
        }
        for (i, s) in stmts.iter().enumerate() {
            let Some(chain) = match_chain(i, s, &stmts, &by_name, &body) else {
                continue;
            };
            if chain.stmts.iter().any(|&k| drop_lines[stmts[k].first]) {
                continue;
            }
            for &k in &chain.stmts {
                drop_lines[stmts[k].first..=stmts[k].last].fill(true);
            }
            let indent: String = lines[stmts[chain.last].first]
                .chars()
                .take_while(|c| c.is_whitespace())
                .collect();
            insert.insert(
                stmts[chain.last].first,
                format!("{indent}let {} = {};", stmts[chain.last].name, chain.call),
            );
            fused += 1;
        }
    }
    let mut out = String::with_capacity(source.len());
    for (n, line) in lines.iter().enumerate() {
        if let Some(call) = insert.get(&n) {
            out.push_str(call);
            out.push('\n');
        }
        if !drop_lines[n] {
            out.push_str(line);
            out.push('\n');
        }
    }
    Rewritten {
        source: out,
        fused,
        convs,
        softmaxes,
        others,
    }
}

/// How burn-onnx writes an ONNX `Softmax`.
const SOFTMAX: &str = "burn::tensor::activation::softmax(";

/// How burn-onnx writes an ONNX `Sigmoid`.
const SIGMOID: &str = "burn::tensor::activation::sigmoid(";

/// `self.FIELD.forward(` → `crate::fused::FUNCTION(&self.FIELD, ` for every field declared
/// `FIELD: TY,` (the function picks the kernel per call).
fn route(source: &str, ty: &str, function: &str) -> (String, usize) {
    let declared = format!(": {ty},");
    let fields: Vec<&str> = source
        .lines()
        .filter_map(|l| l.trim().strip_suffix(declared.as_str()))
        .filter(|f| is_ident(f))
        .collect();
    let mut out = source.to_owned();
    let mut n = 0;
    for f in fields {
        let routed;
        (out, routed) = replace_call(&out, f, &format!("crate::fused::{function}(&self.{f}, "));
        n += routed;
    }
    (out, n)
}

/// Every `self.FIELD.forward(` in `source`, with any whitespace between its tokens (rustfmt
/// breaks a long call as `self\n.field\n.forward(`), replaced by `with`.
fn replace_call(source: &str, field: &str, with: &str) -> (String, usize) {
    let tokens = ["self", ".", field, ".", "forward("];
    let mut out = String::with_capacity(source.len());
    let (mut rest, mut n) = (source, 0);
    while let Some(at) = rest.find("self") {
        // `self` must start a token (not end `myself`).
        let starts = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let mut tail = &rest[at..];
        let matched = starts
            && tokens.iter().enumerate().all(|(i, t)| {
                if i > 0 {
                    tail = tail.trim_start();
                }
                match tail.strip_prefix(t) {
                    Some(after) => {
                        tail = after;
                        true
                    }
                    None => false,
                }
            });
        if matched {
            out.push_str(&rest[..at]);
            out.push_str(with);
            rest = tail;
            n += 1;
        } else {
            out.push_str(&rest[..at + 4]);
            rest = &rest[at + 4..];
        }
    }
    out.push_str(rest);
    (out, n)
}

/// Every `let` statement that starts a line, up to the line ending its expression with `;`.
fn statements(lines: &[&str], from: usize, to: usize) -> Vec<Stmt> {
    let mut out = Vec::new();
    let mut n = from;
    while n < to {
        let Some(rest) = lines[n].trim_start().strip_prefix("let ") else {
            n += 1;
            continue;
        };
        let first = n;
        let mut text: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
        while !lines[n].trim_end().ends_with(';') && n + 1 < to {
            n += 1;
            text.extend(lines[n].chars().filter(|c| !c.is_whitespace()));
        }
        if let Some((name, rhs)) = text
            .strip_suffix(';')
            .and_then(|t| t.split_once('='))
            .filter(|(name, _)| is_ident(name))
        {
            out.push(Stmt {
                first,
                last: n,
                name: name.to_owned(),
                rhs: rhs.to_owned(),
            });
        }
        n += 1;
    }
    out
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// How often `name` occurs in `source` as a whole word.
fn uses(source: &str, name: &str) -> usize {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    source
        .match_indices(name)
        .filter(|(at, _)| {
            let before = source[..*at].chars().next_back();
            let after = source[at + name.len()..].chars().next();
            !before.is_some_and(word) && !after.is_some_and(word)
        })
        .count()
}

/// `(K).unsqueeze_dims(&[..])` → K.
fn broadcast_const(expr: &str) -> Option<&str> {
    let inner = expr.strip_prefix('(')?;
    let (k, rest) = inner.split_once(')')?;
    let dims = rest
        .strip_prefix(".unsqueeze_dims(&[")?
        .strip_suffix("])")?;
    (is_ident(k) && dims.chars().all(|c| c.is_ascii_alphanumeric() || c == ',')).then_some(k)
}

/// `(K).unsqueeze_dims(&[..]).mul(X)` → (K, X).
fn scale(rhs: &str) -> Option<(&str, &str)> {
    let (k_part, x) = rhs.rsplit_once(".mul(")?;
    let x = x.strip_suffix(')')?;
    Some((broadcast_const(k_part)?, x)).filter(|(_, x)| is_ident(x))
}

/// `X.OP((K).unsqueeze_dims(&[..]))` (or `X.clone().OP(..)` when `clone`) → (X, K).
fn with_const<'a>(rhs: &'a str, op: &str, clone: bool) -> Option<(&'a str, &'a str)> {
    let (x, rest) = rhs.split_once('.')?;
    let rest = if clone {
        rest.strip_prefix("clone().")?
    } else {
        rest
    };
    let k = rest
        .strip_prefix(op)?
        .strip_prefix('(')?
        .strip_suffix(')')?;
    Some((x, broadcast_const(k)?)).filter(|(x, _)| is_ident(x))
}

/// The constant statement `let K = self.FIELD.val();` → FIELD.
fn const_field<'a>(
    k: &str,
    stmts: &'a [Stmt],
    by_name: &HashMap<&str, usize>,
) -> Option<(usize, &'a str)> {
    let at = *by_name.get(k)?;
    let field = stmts[at]
        .rhs
        .strip_prefix("self.")?
        .strip_suffix(".val()")?;
    is_ident(field).then_some((at, field))
}

struct Chain {
    /// The statements the call replaces (constants included), by index.
    stmts: Vec<usize>,
    /// The statement whose name the call takes (the chain's last).
    last: usize,
    call: String,
}

/// The chain whose clamp is statement `i`, if it matches completely.
fn match_chain(
    i: usize,
    clamp: &Stmt,
    stmts: &[Stmt],
    by_name: &HashMap<&str, usize>,
    source: &str,
) -> Option<Chain> {
    // d = c.clamp(LO, HI)
    let (c, bounds) = clamp.rhs.split_once(".clamp(")?;
    let (lo, hi) = bounds.strip_suffix(')')?.split_once(',')?;
    let lo = lo.strip_suffix("f64")?.parse::<f64>().ok()?;
    let hi = hi.strip_suffix("f64")?.parse::<f64>().ok()?;
    let d = clamp.name.as_str();
    // c = b.clone().add(k3)
    let c_at = *by_name.get(c)?;
    let (b, k3) = with_const(&stmts[c_at].rhs, "add", true)?;
    // e = b.mul(d), the statement after the clamp that reads d
    let e_at = (i + 1..stmts.len()).find(|&j| stmts[j].rhs == format!("{b}.mul({d})"))?;
    let e = stmts[e_at].name.as_str();
    // f = e.div(k4)
    let f_at = (e_at + 1..stmts.len())
        .find(|&j| with_const(&stmts[j].rhs, "div", false).is_some_and(|(x, _)| x == e))?;
    let (_, k4) = with_const(&stmts[f_at].rhs, "div", false)?;
    let mut ids = vec![c_at, i, e_at, f_at];
    // b = a.add(k2), a = k1 * x: the affine before, when b is its output
    let mut input = b;
    let mut pre = None;
    if let Some(b_at) = by_name.get(b).copied() {
        if let Some((a, k2)) = with_const(&stmts[b_at].rhs, "add", false) {
            if let Some(a_at) = by_name.get(a).copied() {
                if let Some((k1, x)) = scale(&stmts[a_at].rhs) {
                    if uses(source, a) == 2 {
                        ids.extend([a_at, b_at]);
                        pre = Some((k1, k2));
                        input = x;
                    }
                }
            }
        }
    }
    // g = k5 * f, h = g.add(k6): the affine after
    let mut last = f_at;
    let mut post = None;
    let f = stmts[f_at].name.as_str();
    if let Some(g_at) =
        (f_at + 1..stmts.len()).find(|&j| scale(&stmts[j].rhs).is_some_and(|(_, x)| x == f))
    {
        let g = stmts[g_at].name.as_str();
        if let Some(h_at) = (g_at + 1..stmts.len())
            .find(|&j| with_const(&stmts[j].rhs, "add", false).is_some_and(|(x, _)| x == g))
        {
            if uses(source, f) == 2 && uses(source, g) == 2 {
                let (k5, _) = scale(&stmts[g_at].rhs)?;
                let (_, k6) = with_const(&stmts[h_at].rhs, "add", false)?;
                ids.extend([g_at, h_at]);
                post = Some((k5, k6));
                last = h_at;
            }
        }
    }
    // Every intermediate is read only inside the chain: c and d once, e once, b twice (or,
    // when b is the chain's input without the affine, b is consumed by the chain).
    let single = [c, d, e];
    if single.iter().any(|n| uses(source, n) != 2) || uses(source, b) != 3 {
        return None;
    }
    // The constants: each `let K = self.FIELD.val();`, dropped when only the chain reads it.
    let mut field = |k: &str| -> Option<String> {
        let (at, name) = const_field(k, stmts, by_name)?;
        if uses(source, k) == 2 {
            ids.push(at);
        }
        Some(format!("&self.{name}"))
    };
    let pair = |p: Option<(String, String)>| {
        p.map_or_else(|| "None".to_owned(), |(a, b)| format!("Some(({a}, {b}))"))
    };
    let pre = match pre {
        Some((k1, k2)) => Some((field(k1)?, field(k2)?)),
        None => None,
    };
    let add = field(k3)?;
    let div = field(k4)?;
    let post = match post {
        Some((k5, k6)) => Some((field(k5)?, field(k6)?)),
        None => None,
    };
    let call = format!(
        "crate::fused::hard_swish({input}, {}, {add}, {lo:?}, {hi:?}, {div}, {})",
        pair(pre),
        pair(post)
    );
    Some(Chain {
        stmts: ids,
        last,
        call,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape burn-onnx writes (rustfmt's line breaks included).
    const CHAIN: &str = "    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let conv2d2_out1 = self.conv2d2.forward(x);
        let constant1_out1 = self.constant1.val();
        let mul1_out1 = (constant1_out1)
            .unsqueeze_dims(&[0isize, 1isize, 2isize])
            .mul(conv2d2_out1);
        let constant2_out1 = self.constant2.val();
        let add1_out1 = mul1_out1
            .add((constant2_out1).unsqueeze_dims(&[0isize, 1isize, 2isize]));
        let constant3_out1 = self.constant3.val();
        let add2_out1 = add1_out1
            .clone()
            .add((constant3_out1).unsqueeze_dims(&[0isize, 1isize, 2isize]));
        let clip1_out1 = add2_out1.clamp(0f64, 6f64);
        let mul2_out1 = add1_out1.mul(clip1_out1);
        let constant4_out1 = self.constant4.val();
        let div1_out1 = mul2_out1
            .div((constant4_out1).unsqueeze_dims(&[0isize, 1isize, 2isize]));
        let constant5_out1 = self.constant5.val();
        let mul3_out1 = (constant5_out1)
            .unsqueeze_dims(&[0isize, 1isize, 2isize])
            .mul(div1_out1);
        let constant6_out1 = self.constant6.val();
        let add3_out1 = mul3_out1
            .add((constant6_out1).unsqueeze_dims(&[0isize, 1isize, 2isize]));
        let conv2d3_out1 = self.conv2d3.forward(add3_out1);
        conv2d3_out1
    }
";

    #[test]
    fn a_whole_chain_becomes_one_call() {
        let r = rewrite(CHAIN);
        assert_eq!(r.fused, 1);
        assert_eq!(r.convs, 0, "no field is declared a Conv2d");
        let want = "    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let conv2d2_out1 = self.conv2d2.forward(x);
        let add3_out1 = crate::fused::hard_swish(conv2d2_out1, Some((&self.constant1, &self.constant2)), &self.constant3, 0.0, 6.0, &self.constant4, Some((&self.constant5, &self.constant6)));
        let conv2d3_out1 = self.conv2d3.forward(add3_out1);
        conv2d3_out1
    }
";
        assert_eq!(r.source, want);
    }

    #[test]
    fn a_declared_conv_is_routed_through_the_kernel_picker() {
        let src =
            format!("pub struct Model {{\n    conv2d2: Conv2d,\n    conv2d3: Conv2d,\n}}\n{CHAIN}");
        let r = rewrite(&src);
        assert_eq!((r.fused, r.convs), (1, 2));
        assert!(r
            .source
            .contains("let conv2d2_out1 = crate::fused::conv2d(&self.conv2d2, x);"));
        assert!(r
            .source
            .contains("let conv2d3_out1 = crate::fused::conv2d(&self.conv2d3, add3_out1);"));
        assert!(!r.source.contains(".forward("));
    }

    #[test]
    fn other_layers_and_the_sigmoid_are_routed() {
        let src = "pub struct Model {
    batchnormalization1: BatchNorm,
    globalaveragepool1: AdaptiveAvgPool2d,
    convtranspose2d1: ConvTranspose2d,
    resize1: Interpolate2d,
}
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let a = self.batchnormalization1.forward(x);
        let b = self
            .globalaveragepool1
            .forward(a);
        let c = self.convtranspose2d1.forward(b);
        let d = self.resize1.forward(c);
        let e = burn::tensor::activation::sigmoid(d);
        let f = self.batchnormalization10.forward(e);
        f
    }
";
        let r = rewrite(src);
        assert_eq!((r.convs, r.softmaxes, r.others), (0, 0, 4));
        for call in [
            "let a = crate::fused::batch_norm(&self.batchnormalization1, x);",
            "let b = crate::fused::adaptive_avg_pool2d(&self.globalaveragepool1, a);",
            "let c = crate::fused::conv_transpose2d(&self.convtranspose2d1, b);",
            "let d = self.resize1.forward(c);",
            "let e = crate::fused::sigmoid(d);",
            // Not a declared field: `batchnormalization1` is a prefix of it, no more.
            "let f = self.batchnormalization10.forward(e);",
        ] {
            assert!(r.source.contains(call), "{call}\n{}", r.source);
        }
    }

    #[test]
    fn an_intermediate_read_elsewhere_keeps_the_affine_after_outside() {
        // div1 is also returned: the chain stops at div1 and the affine after stays.
        let src = CHAIN.replace(
            "        conv2d3_out1\n",
            "        (conv2d3_out1, div1_out1)\n",
        );
        let r = rewrite(&src);
        assert_eq!(r.fused, 1);
        assert!(r.source.contains("let div1_out1 = crate::fused::hard_swish(conv2d2_out1, Some((&self.constant1, &self.constant2)), &self.constant3, 0.0, 6.0, &self.constant4, None);"), "{}", r.source);
        assert!(r.source.contains(".mul(div1_out1);"));
        assert!(r
            .source
            .contains("let constant5_out1 = self.constant5.val();"));
    }

    #[test]
    fn a_chain_whose_clamp_input_is_read_twice_is_left_alone() {
        let src = CHAIN.replace(
            "        conv2d3_out1\n",
            "        (conv2d3_out1, add2_out1)\n",
        );
        let r = rewrite(&src);
        assert_eq!(r.fused, 0);
        assert_eq!(r.source, src);
    }

    #[test]
    fn a_chain_split_across_functions_is_left_alone() {
        // The same names in two functions (as a submodule's result and its caller's
        // variable) never join into one chain.
        let (head, tail) = CHAIN.split_at(CHAIN.find("        let mul2_out1").unwrap_or(0));
        let src = format!("{head}        mul2_out1\n    }}\n    pub fn other(&self, add1_out1: Tensor<4>, clip1_out1: Tensor<4>) -> Tensor<4> {{\n{tail}");
        let r = rewrite(&src);
        assert_eq!(r.fused, 0, "{}", r.source);
    }
}
