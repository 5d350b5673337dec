# The docs' command blocks run as written against a local cluster.
weir_script_test(NAME docs.operations LABEL integration
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/integration/docs_operations.py
  TIMEOUT 300)
