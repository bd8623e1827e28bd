export DISTRO_NAME=debian
# DIB_RELEASE is set by kiln: the codename of the release built (--release, default the current stable).
# KILN_KERNEL=0: no kernel in the tree (see package-installs.yaml).
export KILN_KERNEL=${KILN_KERNEL:-1}
