//! The 1000 ImageNet-1k class names (torchvision's order) and top-k ranking.

use serde::{Deserialize, Serialize};

const LABELS_TXT: &str = include_str!("../static/imagenet_classes.txt");

/// The class names in index order.
pub fn labels() -> Vec<&'static str> {
    LABELS_TXT.lines().collect()
}

/// The name of class `index`, or `class N` past the known labels.
pub fn label(index: usize) -> String {
    LABELS_TXT
        .lines()
        .nth(index)
        .map(str::to_string)
        .unwrap_or_else(|| format!("class {index}"))
}

/// One ranked prediction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    /// Class index.
    pub class: usize,
    /// Class name.
    pub label: String,
    /// Softmax probability.
    pub prob: f32,
}

/// Softmax of `logits` (computed in f64 for stability).
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let exps: Vec<f64> = logits.iter().map(|&l| (l as f64 - max).exp()).collect();
    let total: f64 = exps.iter().sum();
    exps.iter().map(|e| (e / total) as f32).collect()
}

/// The `k` most probable classes, highest first (ties keep index order).
pub fn top_k(logits: &[f32], k: usize) -> Vec<Ranked> {
    let probs = softmax(logits);
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]).then(a.cmp(&b)));
    order
        .into_iter()
        .take(k)
        .map(|class| Ranked {
            class,
            label: label(class),
            prob: probs[class],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousand_labels_in_torchvision_order() {
        let l = labels();
        assert_eq!(l.len(), 1000);
        assert_eq!(l[0], "tench");
        assert_eq!(l[281], "tabby");
        assert_eq!(l[999], "toilet tissue");
    }

    #[test]
    fn top_k_ranks_by_probability_and_survives_nan() {
        let top = top_k(&[0.1, 3.0, -1.0, 2.0], 3);
        assert_eq!(
            top.iter().map(|r| r.class).collect::<Vec<_>>(),
            vec![1, 3, 0]
        );
        assert!((top.iter().map(|r| r.prob).sum::<f32>() - 0.98).abs() < 0.05);
        assert_eq!(top_k(&[f32::NAN, 1.0], 2).len(), 2);
    }
}
