/* bms-profile.h — a parameter set saved as a text file (GKeyFile syntax).
 *
 *   [Packwatch Profile]
 *   Version=1
 *   Device=…  Chemistry=lfp|nmc|lto  SoftwareVersion=…  Created=ISO 8601
 *   [Parameters]
 *   cell_ovp_mv=3650          (one key per catalogue name, engineering units)
 *
 * Loading checks every line: a file that is not a profile, a newer version,
 * an unknown or per-board key, a duplicate, a value out of range or a vendor
 * rule broken is refused with "FILE:LINE: what is wrong". See
 * docs/profile-format.md.
 */
#pragma once

#include <gio/gio.h>
#include "bms-param-set.h"

G_BEGIN_DECLS

#define BMS_PROFILE_GROUP "Packwatch Profile"
#define BMS_PROFILE_PARAMS "Parameters"
#define BMS_PROFILE_VERSION 1

#define BMS_PROFILE_ERROR (bms_profile_error_quark ())
GQuark bms_profile_error_quark (void);
typedef enum
{
  BMS_PROFILE_ERROR_IO,           /* cannot read or write the file */
  BMS_PROFILE_ERROR_FOREIGN,      /* not a Packwatch profile (binary, other format) */
  BMS_PROFILE_ERROR_VERSION,      /* Version missing or not supported */
  BMS_PROFILE_ERROR_SYNTAX,       /* a line that is not a group, key=value or comment */
  BMS_PROFILE_ERROR_UNKNOWN_KEY,  /* no such key / parameter */
  BMS_PROFILE_ERROR_NOT_PORTABLE, /* a per-board field (address, password, id …) */
  BMS_PROFILE_ERROR_DUPLICATE,    /* a key or group given twice */
  BMS_PROFILE_ERROR_VALUE,        /* bad value or out of range */
  BMS_PROFILE_ERROR_RULE,         /* a vendor rule between two values is broken */
} BmsProfileError;

#define BMS_TYPE_PROFILE (bms_profile_get_type ())
G_DECLARE_FINAL_TYPE (BmsProfile, bms_profile, BMS, PROFILE, GObject)

/* The portable parameters of params (see bms_param_is_portable). */
BmsProfile *bms_profile_new (BmsParamSet *params);
/* Parameters and metadata (device id, software version, chemistry) of a
 * read-all snapshot. */
BmsProfile *bms_profile_new_from_snapshot (const BmsSnapshot *snapshot);

BmsParamSet *bms_profile_get_params (BmsProfile *self);
const char *bms_profile_get_device (BmsProfile *self);
void bms_profile_set_device (BmsProfile *self, const char *device);
const char *bms_profile_get_software_version (BmsProfile *self);
void bms_profile_set_software_version (BmsProfile *self, const char *version);
/* Battery type (0xAF value) or -1 when unknown. */
gint bms_profile_get_chemistry (BmsProfile *self);
void bms_profile_set_chemistry (BmsProfile *self, gint battery_type);
/* µs since the epoch; set by save, read by load (0 when absent). */
gint64 bms_profile_get_created (BmsProfile *self);

char *bms_profile_to_data (BmsProfile *self, gsize *length);
/* Written to a temporary file and renamed into place. */
gboolean bms_profile_save (BmsProfile *self, const char *path, GError **error);
BmsProfile *bms_profile_load (const char *path, GError **error);
/* name: used in error messages ("NAME:LINE: …"). */
BmsProfile *bms_profile_load_from_data (const char *data, gsize length, const char *name,
                                        GError **error);

G_END_DECLS
