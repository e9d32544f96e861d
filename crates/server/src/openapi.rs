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
        resources::enter_room, resources::leave_room, resources::interact, resources::settle, resources::set_registration_all, resources::set_registration, resources::impression,
        reads::festival, reads::merchant, reads::anchor, reads::provider, reads::session, reads::review, reads::day,
        reads::wallet, reads::coupon, reads::red_packet, reads::group, reads::lottery, reads::checkout, reads::contract,
        reads::board, reads::progress, reads::budgets, reads::payout, reads::report, reads::ledger,
        crate::push::events,
        tokens::create, tokens::list, tokens::revoke,
        ops::healthz, ops::readyz, ops::metrics, ops::openapi,
    ),
    components(schemas(crate::problem::Problem, crate::app::CommandResult, commands::BatchResult, tokens::NewToken, tokens::Created, resources::QuoteRequest, crate::tokens::Token, crate::tokens::Role)),
    modifiers(&Bearer, &Problems),
)]
struct Api;

/// Every error answer is a problem document, as `application/problem+json`; and every
/// operation behind a token documents the errors any request can get (401, 403, 405,
/// 413, 415, 422, 429, 503; a write also 409 and 507) besides its own.
struct Problems;

const ANY_REQUEST: &[(&str, &str)] = &[
    ("400", "A malformed request: the body, a parameter, or `at_least` past the log's end"),
    ("401", "No token, or an unknown, expired or revoked one"),
    ("403", "The token's role or participant may not"),
    ("404", "No such resource"),
    ("405", "Not a method this path takes"),
    ("413", "A body or a batch over its limit"),
    ("415", "A body that is not JSON"),
    ("422", "A body of the wrong shape for this endpoint, or a command the festival's rules refuse"),
    ("429", "Over the token's rate"),
    ("503", "Busy, stopping, or the read view not there yet: retry after `Retry-After`"),
];

/// What any write can get besides: a key still running, a table at its capacity.
const WRITES: &[(&str, &str)] = &[
    ("307", "A stream node that does not lead: resend to the leader, at `Location` (`not_leader`)"),
    ("409", "A clash with what already happened, or the request's `Idempotency-Key` still running"),
    ("507", "A new entry for a table at the festival's `[capacity]`"),
];

impl Modify for Problems {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = || ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
        for (path, item) in api.paths.paths.iter_mut() {
            let open = matches!(path.as_str(), "/healthz" | "/readyz" | "/metrics" | "/openapi.json");
            let ops = [
                (&mut item.get, false),
                (&mut item.post, true),
                (&mut item.delete, true),
                (&mut item.put, true),
                (&mut item.patch, true),
            ];
            for (op, is_write) in ops {
                let Some(op) = op else { continue };
                for (_, r) in op.responses.responses.iter_mut() {
                    if let utoipa::openapi::RefOr::T(resp) = r {
                        if let Some(c) = resp.content.shift_remove("application/json") {
                            let is_problem =
                                serde_json::to_string(&c).is_ok_and(|j| j.contains("#/components/schemas/Problem"));
                            let key = if is_problem { "application/problem+json" } else { "application/json" };
                            resp.content.insert(key.to_string(), c);
                        }
                    }
                }
                if open {
                    continue;
                }
                for (code, what) in ANY_REQUEST.iter().chain(is_write.then_some(WRITES).into_iter().flatten()) {
                    op.responses.responses.entry(code.to_string()).or_insert_with(|| {
                        ResponseBuilder::new()
                            .description(*what)
                            .content("application/problem+json", problem())
                            .build()
                            .into()
                    });
                }
            }
        }
    }
}

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
