# make package: the gateway as a Debian package, built by CPack (docs/operations.md, "Installing
# the package"). What it holds:
#   /usr/bin/acp-gateway
#   /usr/share/acp-gateway/conformance/{r4,acp,ukcore}   the definitions and profiles (found
#   /usr/share/acp-gateway/mappings/<partner>/…          next to the binary: app/gateway.cc)
#   /etc/acp-gateway/gateway.properties                  the default configuration (a conffile)
#   /lib/systemd/system/acp-gateway.service              docs/ops/acp-gateway.service, for /usr/bin
#   /usr/share/doc/acp-gateway/…                         the operators' guides and the example
# and the maintainer scripts in cmake/debian/ (the acp-gateway system user, the folders, a
# token signing key; the service is not enabled until it is configured).
# Dependencies are read from the binary's libraries by dpkg-shlibdeps (Debian's dpkg-dev).

install(TARGETS acp-gateway RUNTIME DESTINATION bin)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/conformance/r4 ${CMAKE_SOURCE_DIR}/conformance/acp
                  ${CMAKE_SOURCE_DIR}/conformance/ukcore
        DESTINATION share/acp-gateway/conformance
        PATTERN "README.md" EXCLUDE)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/mappings/ DESTINATION share/acp-gateway/mappings
        FILES_MATCHING PATTERN "conceptmaps/*.json" PATTERN "*.xsd"
        PATTERN "samples" EXCLUDE PATTERN "parser" EXCLUDE)

# The unit of docs/ops, with the package's path of the binary.
file(READ ${CMAKE_SOURCE_DIR}/docs/ops/acp-gateway.service ACP_UNIT)
string(REPLACE "/usr/local/bin/acp-gateway" "/usr/bin/acp-gateway" ACP_UNIT "${ACP_UNIT}")
string(REPLACE "# Install: cp docs/ops/acp-gateway.service /etc/systemd/system/ && systemctl daemon-reload\n"
               "# Installed by the acp-gateway package.\n" ACP_UNIT "${ACP_UNIT}")
file(WRITE ${CMAKE_BINARY_DIR}/package-files/acp-gateway.service "${ACP_UNIT}")
install(FILES ${CMAKE_BINARY_DIR}/package-files/acp-gateway.service DESTINATION /lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/cmake/debian/gateway.properties DESTINATION /etc/acp-gateway
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)  # group acp-gateway: postinst
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/operations.md
              ${CMAKE_SOURCE_DIR}/docs/configuration.md ${CMAKE_SOURCE_DIR}/docs/security.md
              ${CMAKE_SOURCE_DIR}/docs/ops/gateway.properties.example
              ${CMAKE_SOURCE_DIR}/cmake/debian/copyright
        DESTINATION share/doc/acp-gateway)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME acp-gateway)
set(CPACK_PACKAGE_VERSION ${ACP_VERSION})
set(CPACK_PACKAGE_VENDOR "ACP Gateway")
set(CPACK_PACKAGE_CONTACT "ACP Gateway team <acp-gateway@example.nhs.uk>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "FHIR R4 gateway for shared advance care plans of children (NHS)")
set(CPACK_PACKAGE_DESCRIPTION
    "Takes hospice JSON exports, community trust XML exports and hospital HL7 v2 over MLLP, maps them to UK Core FHIR R4, keeps one shared view of each child's advance care plan with every disagreement surfaced, and serves it over the FHIR REST API with mutual TLS, SMART Backend Services tokens and a hash-chained audit trail.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
# adduser: the system user; openssl: the token signing key made at install.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, openssl")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql (>= 15)")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/cmake/debian/conffiles ${CMAKE_SOURCE_DIR}/cmake/debian/postinst
    ${CMAKE_SOURCE_DIR}/cmake/debian/prerm ${CMAKE_SOURCE_DIR}/cmake/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/package)  # make package; cpack -B elsewhere
include(CPack)
