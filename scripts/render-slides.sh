#!/usr/bin/env bash
# Renders architecture.pptx to PDF and one PNG per slide under out/slides/,
# with LibreOffice (installed from Debian's packages if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v soffice >/dev/null || ! command -v pdftoppm >/dev/null; then
  echo "installing libreoffice-impress and poppler-utils..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-impress poppler-utils fonts-liberation >/dev/null
fi

mkdir -p out/slides
soffice --headless --convert-to pdf --outdir out/slides architecture.pptx >/dev/null
pdftoppm -png -r 110 out/slides/architecture.pdf out/slides/slide
ls out/slides
