export DISTRO_NAME=debian
export DIB_RELEASE=${DIB_RELEASE:-bookworm}
