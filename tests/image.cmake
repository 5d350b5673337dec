# The image without a Docker engine: docker/Dockerfile's runtime stage built
# in a chroot (debootstrap, cached in .cache/image-chroot/), every binary's
# --help and the word count run in it (docs/deploy.md). Needs root; its own
# label, a step of .ci/run.
weir_script_test(NAME image.chroot LABEL image
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/integration/image_chroot.py
  TIMEOUT 900)
