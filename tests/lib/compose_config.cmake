# cmake -DFILE=docker/docker-compose.yml -P compose_config.cmake
# Checks a compose file with `docker-compose config -q` (no Docker engine
# needed). Fails, naming what to install, when docker-compose is missing:
# scripts/install-deps installs it (Debian package docker-compose).
find_program(docker_compose docker-compose)
if(NOT docker_compose)
  message(FATAL_ERROR "docker-compose not found on PATH: cannot check "
    "${FILE}; run scripts/install-deps (Debian package docker-compose)")
endif()
execute_process(COMMAND ${docker_compose} -f ${FILE} config -q
  RESULT_VARIABLE rv)
if(NOT rv EQUAL 0)
  message(FATAL_ERROR "docker-compose config -q ${FILE} failed: ${rv}")
endif()
