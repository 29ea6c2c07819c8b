"""Thin views, one module per URL segment: parse the request, call a service
or selector, render. An htmx request gets only the partial it targets;
everything also works without JavaScript."""
