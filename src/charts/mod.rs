//! Charts drawn with plotters, generic over the drawing backend: the page draws them to a
//! canvas, the native tests to SVG.

pub mod gradients;
pub mod top_k;
pub mod toy;

/// Turns a plotters drawing error into the crate's error.
pub(crate) fn chart_error<E: std::error::Error + Send + Sync>(
    e: plotters::drawing::DrawingAreaErrorKind<E>,
) -> crate::Error {
    crate::Error::InvalidArgument(format!("chart drawing failed: {e}"))
}
