//! The OpenAPI 3.1 document, generated from the handlers' annotations; a snapshot test
//! (tests/openapi.rs) keeps every change to it deliberate.

use crate::routes::{commands, ops, reads, resources, tokens};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "dacu", description = "The festival engine as a service: commands, resource endpoints, reads, live push. docs/api.md."),
    paths(
        commands::post,
        resources::quote, resources::claim_coupon, resources::grab_red_packet, resources::open_group, resources::join_group,
        resources::checkout, resources::pay, resources::cancel, resources::order, resources::refund,
        resources::enter_room, resources::leave_room, resources::interact, resources::settle,
        reads::festival, reads::merchant, reads::anchor, reads::provider, reads::session, reads::review, reads::day,
        reads::wallet, reads::coupon, reads::red_packet, reads::group, reads::lottery, reads::checkout,
        reads::board, reads::progress, reads::budgets, reads::payout, reads::report,
        crate::push::events,
        tokens::create, tokens::list, tokens::revoke,
        ops::healthz, ops::readyz, ops::metrics, ops::openapi,
    ),
    components(schemas(crate::problem::Problem, crate::app::CommandResult, commands::BatchResult, tokens::NewToken, tokens::Created, resources::QuoteRequest, crate::tokens::Token, crate::tokens::Role)),
    modifiers(&Bearer),
)]
struct Api;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document, with this build's version.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut d = Api::openapi();
    d.info.version = env!("CARGO_PKG_VERSION").to_string();
    d
}
