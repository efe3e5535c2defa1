"""The pages people use: server-rendered Django templates + htmx, JavaScript islands only where they pay.

Layout: ``web/urls.py`` (namespace "web") concatenates the ``urlpatterns`` of each area module in
``web/views/<area>.py`` (frame, enterprise, site, recycler, dispatch, regulator); forms in
``web/forms/<area>.py``; templates in ``web/templates/web/<area>/`` extending ``web/base.html``
(blocks: ``title``, ``head``, ``content``, ``scripts``); translations in ``web/locale``; front-end
libraries vendored by ``scripts/vendor.sh`` (versions in ``web/vendor.json``) under ``static/vendor/``.

Frame components, and how to use them:

- Acting organisation: ``web.acting.acting_organisation(request)`` (also ``request.acting_org``, lazy)
  is the organisation the user acts for (picked in the header, kept in the session);
  ``acting_membership(request)`` gives the membership (``.can_write`` for viewers). Gate a view with
  ``@role_required(Role.GENERATOR)``: login required, and a framed 403 when the acting organisation
  lacks the role. Scope every read with ``waste.scoping.visible_to`` through the domain selectors.
- Landing pages: ``web.acting.LANDING`` (role → URL name); the role navigation in the header is
  ``web.navigation.NAVIGATION`` (add your area's entries there).
- Errors: raise ``Http404``/``PermissionDenied`` (or let a selector raise ``waste.errors.NotFound``/
  ``Forbidden``) → framed 404/403 page, also with DEBUG on (``web.errors.FramedErrorsMiddleware``);
  another uncaught ``AppError`` → framed page with its message. Better: catch ``AppError`` from a
  service and put ``error.fields`` beside the form's fields (``form.add_error``).
- Forms: ``{% include "web/components/form_fields.html" %}`` renders ``form`` with a summary on
  top, a <label> for every field and each error beside its field; ``components/field.html`` for one
  ``field``.
- Paginated tables: ``page = web.components.paginate(request, queryset)`` then
  ``{% include "web/components/table.html" with page=page columns=headings
  row_template="web/<area>/_row.html" empty=_("… what to do next") id="batches" %}`` (each <td>
  with ``data-label`` so rows become cards at phone width); or ``components/pagination.html`` with
  ``page`` under your own table. Empty states: ``components/empty.html`` with ``text``.
- Background jobs: ``web.components.job_progress(job, poll_url=…, result_url=…, result_label=…)``
  → ``{% include "web/components/job_progress.html" with job=progress %}``; the poll view renders the
  same partial and htmx polls it every second until done/failed. Export jobs already have one:
  ``web.views.frame.export_job_progress(job)`` polled at ``web:export-progress`` (pk = ExportJob id),
  with the download link when done.
- Map island: ``{% include "web/components/map_assets.html" %}`` in ``{% block head %}``, then
  ``{% include "web/components/map.html" with map=config id="site-map" %}`` where ``config`` is
  ``web.maps.map_config(web.maps.layer("sites", "point", [web.maps.feature(site.location,
  title=site.name, kind=site.kind)], color_property="kind", colors=SITE_KIND_COLOURS,
  popup_fields=[("kind_label", _("Kind"))]), …)``; polygons (jurisdictions, districts), points
  coloured by a property, lines coloured per feature (``color`` property; ``ROUTE_COLOURS``).
  Plain background unless ``settings.MAP_STYLE_URL`` names a city's own style.
- Chart island: ``{% include "web/components/chart_assets.html" %}`` in ``head``, then
  ``{% include "web/components/chart.html" with chart=echarts_option id="flows" label=_("…") %}``
  (plain-data ECharts options: bar, line, sankey, graph).
- JavaScript: gettext() comes from ``/jsi18n/`` (JavaScriptCatalog, loaded by base.html; strings in
  ``web/locale/zh_Hans/LC_MESSAGES/djangojs.po``). Alpine.js is the CSP build: register components
  with ``Alpine.data`` in an ``alpine:init`` listener (see static/web/app.js), no inline expressions
  beyond property names. The Content-Security-Policy allows only 'self': no inline <script> or
  style="" attributes; data goes to scripts through ``json_script``.
- The drivers' phone app (``/m/``, ``web/views/phone.py``): page shells extending
  ``web/phone/base.html`` (tab bar, network indicator; blocks ``head``, ``scripts``, ``content``) with
  no user data, so the service worker (``/m/sw.js``) can cache them; each page's ES module imports
  ``web/static/web/phone/app.js`` (device token in IndexedDB, ``api(path, {cache})`` = Bearer fetch
  with the last GET answer kept for offline, ``enqueue``/``syncQueue`` for the offline scan queue,
  ``flash``); ``track.js`` (every page but login) shares the position while a trip is open and
  keeps the status line ``#tracking``. Add a page: view + URL + its URL name in ``PHONE_PAGES`` (the ONE
  precache list, with ``PHONE_STATIC`` for its script). Fixtures: tests/web/phone/conftest.py (360 px
  phone, fake camera, ``driver_round``, ``phone_login``).
- Tests: tests/web/conftest.py has the browser fixtures (``page``, ``login(page, user)``,
  ``shot(page, name)``); mark browser tests ``@pytest.mark.browser``.
"""
