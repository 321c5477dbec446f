-- pgbench: the nearby listing as one SQL statement (the newest 21 within 5 km of a random point
-- of South Korea, ranked from the index alone, then loaded with the author and the caller's
-- vote), the ceiling for GET /posts/nearby.
\set latm random(33000000, 38600000)
\set lonm random(124600000, 131000000)
with page as (
  select p.id, d.distance
  from posts p
  cross join lateral (
    select 2 * 6371008.8 * asin(sqrt(
      power(sin(radians(p.lat - :latm::float8 / 1e6) / 2), 2)
      + cos(radians(:latm::float8 / 1e6)) * cos(radians(p.lat)) * power(sin(radians(p.lon - :lonm::float8 / 1e6) / 2), 2)
    )) as distance
  ) d
  where p.lat_band = any (array(select generate_series(
          floor((:latm::float8 / 1e6 - 0.044967) * 100)::bigint, floor((:latm::float8 / 1e6 + 0.044967) * 100)::bigint)))
    and p.lon between :lonm::float8 / 1e6 - degrees(asin(sin(5000 / 6371008.8) / cos(radians(:latm::float8 / 1e6))))
                  and :lonm::float8 / 1e6 + degrees(asin(sin(5000 / 6371008.8) / cos(radians(:latm::float8 / 1e6))))
    and d.distance <= 5000
  order by p.id desc
  limit 21
)
select p.id, p.author_id, u.nickname, p.title, p.body, p.lat, p.lon, p.helpful_count,
       p.not_helpful_count, p.created_at, v.value, page.distance
from page
join posts p on p.id = page.id
left join users u on u.id = p.author_id
left join post_votes v on v.post_id = p.id and v.user_id = 'viewer'
order by p.id desc;
