// Renders /openapi.json with Scalar. The mount point is not called
// `api-reference`, the id Scalar's standalone build mounts itself on as well.
Scalar.createApiReference("#docs", {
  url: "/openapi.json",
  withDefaultFonts: false,
  hideClientButton: true,
});
