// Renders /openapi.json with Scalar, without the fonts it would otherwise
// load from fonts.scalar.com (the page's CSP allows only this origin).
Scalar.createApiReference("#api-reference", {
  url: "/openapi.json",
  withDefaultFonts: false,
  hideClientButton: true,
});
