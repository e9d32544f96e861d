//! Live push over Server-Sent Events (to come): the hub that subscribers register with.

/// The subscribers of the live push.
#[derive(Debug, Default)]
pub struct Hub {}
