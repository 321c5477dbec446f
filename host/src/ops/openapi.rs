//! The OpenAPI document (`/openapi.json`) and Swagger UI (`/docs`), assets bundled in the
//! binary so the viewer works offline.

use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(title = "WeatherWise API", description = "Weather-aware missions, photo verification, community and chat. \
        Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code` and the `request_id`."),
    paths(
        crate::auth::routes::signup,
        crate::auth::routes::login,
        crate::auth::routes::refresh,
        crate::auth::routes::logout,
        crate::auth::routes::kakao_authorize,
        crate::auth::routes::kakao_callback,
        crate::accounts::routes::me,
        crate::accounts::routes::update_me,
        crate::accounts::routes::change_password,
        crate::accounts::routes::delete_me,
        crate::community::routes::create_post,
        crate::community::routes::nearby_posts,
        crate::community::routes::get_post,
        crate::community::routes::delete_post,
        crate::community::routes::set_vote,
        crate::community::routes::withdraw_vote,
        crate::community::routes::my_posts,
        crate::plugins::routes::upload,
        crate::plugins::routes::list,
        crate::plugins::routes::inspect,
        crate::plugins::routes::delete,
        crate::plugins::routes::activate,
        crate::plugins::routes::rollback,
        crate::plugins::dry_run::dry_run,
        crate::plugins::record_routes::call,
        crate::plugins::record_routes::replay,
        crate::plugins::record_routes::start_shadow,
        crate::plugins::record_routes::shadow,
        crate::plugins::record_routes::stop_shadow,
        crate::plugins::routes::audit,
        crate::weather::routes::day,
        crate::points::routes::my_points,
        crate::points::routes::top,
        crate::points::routes::my_rank,
        crate::points::routes::search,
        crate::notifications::routes::stream,
        crate::missions::routes::today,
        crate::missions::routes::mission,
        crate::missions::routes::history,
        crate::verification::upload::submit,
        crate::verification::routes::verification,
        crate::verification::routes::photo,
        crate::verification::routes::appeal,
        crate::verification::routes::review_queue,
        crate::verification::routes::review,
        crate::verification::routes::admin_verification,
        crate::verification::routes::admin_photo,
        crate::weather::routes::poll_alerts,
        crate::chat::routes::rooms,
        crate::chat::routes::room,
        crate::chat::routes::messages,
        crate::chat::routes::delete_message,
        crate::chat::routes::mute,
        crate::coupons::routes::events,
        crate::coupons::routes::claim,
        crate::coupons::routes::my_coupons,
        crate::coupons::routes::redeem,
        crate::coupons::admin_routes::create,
        crate::coupons::admin_routes::list,
        crate::coupons::admin_routes::one,
        crate::coupons::admin_routes::change,
        crate::coupons::admin_routes::close,
        crate::coupons::admin_routes::issued,
        crate::coupons::admin_routes::days,
        crate::coupons::admin_routes::check,
        crate::coupons::admin_routes::reconcile,
    ),
    modifiers(&BearerAuth),
    tags((name = "auth", description = "Accounts and sessions"), (name = "me", description = "The signed-in user"),
        (name = "community", description = "Posts near a point and their votes"),
        (name = "weather", description = "The day's weather by slot"),
        (name = "missions", description = "Today's missions, photo verifications and appeals"),
        (name = "points", description = "Points, the ranking and nickname search"),
        (name = "notifications", description = "The signed-in user's events as Server-Sent Events"),
        (name = "chat", description = "Weather-alert chat rooms; messages over STOMP at `GET /ws`"),
        (name = "coupons", description = "First-come coupon events, claims and the signed-in user's coupons"),
        (name = "admin", description = "Plugin registry, review queue, coupon events and audit log (admin role)"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build(),
            ),
        );
    }
}

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().merge(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
}
