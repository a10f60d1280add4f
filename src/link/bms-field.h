/* bms-field.h — the field catalogue: one table describing every protocol field.
 *
 * The codec, the model, the Param page, the simulator and docs/protocol.md all
 * read this table; nothing else may hard-code a field's size, scale or range.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  BMS_ACCESS_R  = 1 << 0,
  BMS_ACCESS_W  = 1 << 1,
  BMS_ACCESS_RW = BMS_ACCESS_R | BMS_ACCESS_W,
} BmsAccess;

/* How the value bytes are encoded on the wire. "raw" below means the integer
 * after decoding (sign applied); the engineering value is raw * scale. */
typedef enum {
  BMS_FIELD_UINT,        /* unsigned big-endian, size 1, 2 or 4 */
  BMS_FIELD_INT,         /* signed two's complement big-endian, size 2 */
  BMS_FIELD_TEMP,        /* 2 bytes: 0..100 = °C, above 100 = -(v - 100) °C */
  BMS_FIELD_CURRENT,     /* 2 bytes: meaning depends on protocol version (0xC0) */
  BMS_FIELD_BOOL,        /* 1 byte switch: 0 off, 1 on */
  BMS_FIELD_ENUM,        /* unsigned, with a name per value (value_names) */
  BMS_FIELD_BITS,        /* unsigned bit mask, with a name per bit (bit_names) */
  BMS_FIELD_ASCII,       /* fixed size ASCII, zero padded */
  BMS_FIELD_BYTES,       /* fixed size raw bytes */
  BMS_FIELD_CELLS,       /* 0x79: length byte (3n), then n × (cell no., mV u16) */
  BMS_FIELD_CELLS_EXT,   /* extension: length u16 (2n), then n × mV u16, cells 86.. */
  BMS_FIELD_MODULE_TEMPS,/* extension: length byte (6m), then m × 3 × s16 °C */
} BmsFieldType;

typedef enum {
  BMS_GROUP_TELEMETRY,
  BMS_GROUP_VOLTAGE,
  BMS_GROUP_CURRENT,
  BMS_GROUP_TEMPERATURE,
  BMS_GROUP_BALANCE,
  BMS_GROUP_HEATING,
  BMS_GROUP_CHARGER,
  BMS_GROUP_BATTERY,     /* capacity, cell count, type: the Normal page */
  BMS_GROUP_SWITCHES,
  BMS_GROUP_SYSTEM,      /* address, sleep, calibration, lease, inverter */
  BMS_GROUP_IDENTITY,
  BMS_GROUP_COMMAND,     /* write-only actions: restart, reset, upgrade */
} BmsFieldGroup;

typedef struct {
  guint8        id;
  const char   *name;        /* stable snake_case key: JSON, SQLite, profiles */
  const char   *label;       /* English label, translatable (N_) */
  BmsFieldType  type;
  guint8        size;        /* value bytes; 0 = length-prefixed (variable) */
  BmsAccess     access;
  const char   *unit;        /* of the engineering value: "mV", "V", "A", "°C", ... */
  double        scale;       /* engineering = raw * scale */
  gint64        min;         /* valid raw range (inclusive) */
  gint64        max;
  BmsFieldGroup group;
  gboolean      extension;   /* defined by Packwatch, not in the public list */
  const char * const *names; /* ENUM: value names; BITS: bit names; NULL ends */
  const char   *description; /* one sentence for docs/protocol.md and tooltips */
  guint8        replaces;    /* an extension standing in for this public field
                              * when not 0 (0 then means "not used"); 0: none */
  /* Physical bounds of a reported value (raw, inclusive; for the cell and
   * module blocks each element's): what no pack, healthy or faulty, can
   * report, so a reply beyond them is nonsense, not a fault. Not the
   * settable range (min/max). Only where bounded is TRUE. */
  gboolean      bounded;
  gint64        phys_min;
  gint64        phys_max;
} BmsFieldInfo;

/* Protocol ids used by name in code (everything else goes through lookups). */
enum {
  BMS_ID_READ_ALL          = 0x00,
  BMS_ID_CELLS             = 0x79,
  BMS_ID_MOSFET_TEMP       = 0x80,
  BMS_ID_TEMP1             = 0x81,
  BMS_ID_TEMP2             = 0x82,
  BMS_ID_PACK_VOLTAGE      = 0x83,
  BMS_ID_CURRENT           = 0x84,
  BMS_ID_SOC               = 0x85,
  BMS_ID_CYCLES            = 0x87,
  BMS_ID_CELL_COUNT        = 0x8A,
  BMS_ID_WARNINGS          = 0x8B,
  BMS_ID_STATUS            = 0x8C,
  BMS_ID_PACK_OVP          = 0x8E,
  BMS_ID_PACK_UVP          = 0x8F,
  BMS_ID_CELL_OVP          = 0x90,
  BMS_ID_CELL_OVP_RECOVERY = 0x91,
  BMS_ID_CELL_OVP_DELAY    = 0x92,
  BMS_ID_CELL_UVP          = 0x93,
  BMS_ID_CELL_UVP_RECOVERY = 0x94,
  BMS_ID_CELL_UVP_DELAY    = 0x95,
  BMS_ID_BOARD_ADDRESS     = 0xAE,
  BMS_ID_BATTERY_TYPE      = 0xAF,
  BMS_ID_PASSWORD          = 0xB2,
  BMS_ID_SOFTWARE_VERSION  = 0xB7,
  BMS_ID_RESTART           = 0xBB,
  BMS_ID_FACTORY_RESET     = 0xBC,
  BMS_ID_REMOTE_UPGRADE    = 0xBD,
  BMS_ID_PROTOCOL_VERSION  = 0xC0,
  /* Packwatch extensions: 0xD0..0xEF, unused by the public list. */
  BMS_ID_CELLS_EXT         = 0xD0,
  BMS_ID_MODULE_COUNT      = 0xD1,
  BMS_ID_MODULE_CELLS      = 0xD2,
  BMS_ID_MODULE_TEMPS      = 0xD3,
  BMS_ID_RELAYS            = 0xD4,
  BMS_ID_CELL_OVP2         = 0xD5,
  BMS_ID_CELL_UVP2         = 0xD6,
  BMS_ID_ALARMS_EXT        = 0xD7,
  BMS_ID_HEATER_MODE       = 0xD8,
  BMS_ID_LEASE_END         = 0xE3,
  BMS_ID_LEASE_CODE        = 0xE4,
  BMS_ID_LEASE_STATE       = 0xE5,
  BMS_ID_SLEEP_NOW         = 0xE6,
  BMS_ID_PACK_CELL_COUNT   = 0xE7,
  BMS_ID_PACK_VOLTAGE_HV   = 0xED,
  BMS_ID_PACK_OVP_HV       = 0xEE,
  BMS_ID_PACK_UVP_HV       = 0xEF,
};

#define BMS_MAX_CELLS        256
#define BMS_MAX_MODULES      16
#define BMS_CELLS_IN_0X79    85   /* 255 / 3: the public block's limit */
#define BMS_PASSWORD_SIZE    10
#define BMS_CELL_MV_PHYS_MAX 5000 /* no lithium cell, whatever its state, shows more */
#define BMS_DEFAULT_PASSWORD "123456"

const BmsFieldInfo *bms_field_lookup         (guint8       id);
const BmsFieldInfo *bms_field_lookup_name    (const char  *name);
/* The extension that stands in for field id when it is not 0 (0xEE for
 * 0x8E), or NULL. */
const BmsFieldInfo *bms_field_replacement    (guint8       id);
/* Every field, ascending id; sets *n_fields. */
const BmsFieldInfo *bms_field_all            (guint       *n_fields);

gboolean            bms_field_is_numeric     (const BmsFieldInfo *field);
gboolean            bms_field_is_writable    (const BmsFieldInfo *field);
/* Engineering value of a raw one, and back (rounded to the nearest raw). */
double              bms_field_to_engineering (const BmsFieldInfo *field,
                                              gint64              raw);
gint64              bms_field_from_engineering (const BmsFieldInfo *field,
                                                double              value);
/* Range check of a raw value; the error names the field, the value and the
 * allowed range in engineering units. */
gboolean            bms_field_check_range    (const BmsFieldInfo *field,
                                              gint64              raw,
                                              GError            **error);
/* Physical-bounds check of a reported raw value (see BmsFieldInfo.bounded);
 * the error (BMS_FIELD_ERROR_IMPLAUSIBLE) names the field, the value and the
 * bounds in engineering units. TRUE for unbounded fields. */
gboolean            bms_field_check_physical (const BmsFieldInfo *field,
                                              gint64              raw,
                                              GError            **error);
/* The bounds as text ("-50 … 150 °C"), or NULL when unbounded. */
char               *bms_field_format_physical (const BmsFieldInfo *field);
/* Parse user text ("3650", "3.65", "on", "lfp", "fk3", a name of a bit list
 * "a|b") into a raw value, range-checked. */
gboolean            bms_field_parse_value    (const BmsFieldInfo *field,
                                              const char         *text,
                                              gint64             *raw_out,
                                              char              **string_out,
                                              GError            **error);
/* The lease end (0xE3) is Unix time. A lease "until 2027-03-31" runs to
 * the end of that local day: midnight after it. 0 is "none". */
gint64              bms_field_lease_end_of_day (int year, int month, int day);
/* "2027-03-31 24:00" (ISO 8601's end of day) for a lease ending at local
 * midnight, else "YYYY-MM-DD HH:MM" local; "none" for 0. */
char               *bms_field_format_lease_end (gint64 end);
/* A manufacture date (0xB5, ASCII "YYMM") as month and year in the UI's
 * language ("January 2026", zh_CN "2026年1月"); anything else as it came. */
char               *bms_field_format_manufacture_date (const char *yymm);
/* A version string (0xB7, 0xEC) without the padding the board puts after
 * it: trailing underscores and spaces ("PWSIM_S1.0.0___" → "PWSIM_S1.0.0").
 * NULs already end the string; nothing inside it changes. */
char               *bms_field_format_version (const char *text);
/* Formatting a value, one implementation for the app and the CLI. Decimals
 * of the engineering value: as many as the scale has (0.01 → 2). */
guint               bms_field_get_decimals   (const BmsFieldInfo *field);
/* Human text of a raw value with unit in the user's locale: the
 * engineering number in the field's unit ("3650 mV", "3.65 V"), an enum's
 * name, "on"/"off", a bit mask in hex. */
char               *bms_field_format         (const BmsFieldInfo *field,
                                              gint64              raw);
/* The engineering number alone, locale-independent ("3.65" for 365 at
 * 0.01): for files, JSON and command lines. */
char               *bms_field_format_number  (const BmsFieldInfo *field,
                                              gint64              raw);
/* Names of the set bits of a BITS field joined with ", " ("bit N" past the
 * names, "none" if 0). */
char               *bms_field_bit_names      (const BmsFieldInfo *field,
                                              gint64              raw);
const char         *bms_field_group_name     (BmsFieldGroup       group);
const char         *bms_field_type_name      (BmsFieldType        type);

/* Encode one numeric raw value into the field's wire bytes (size bytes). */
gboolean            bms_field_encode_raw     (const BmsFieldInfo *field,
                                              gint64              raw,
                                              guint8             *out,
                                              guint8              protocol_version);
gint64              bms_field_decode_raw     (const BmsFieldInfo *field,
                                              const guint8       *in,
                                              guint8              protocol_version);

#define BMS_FIELD_ERROR (bms_field_error_quark ())
GQuark bms_field_error_quark (void);
typedef enum {
  BMS_FIELD_ERROR_UNKNOWN,     /* no such field */
  BMS_FIELD_ERROR_RANGE,       /* value outside the catalogue range */
  BMS_FIELD_ERROR_PARSE,       /* text is not a value of this field */
  BMS_FIELD_ERROR_ACCESS,      /* field is read-only */
  BMS_FIELD_ERROR_RULE,        /* a vendor rule between fields (model layer) */
  BMS_FIELD_ERROR_IMPLAUSIBLE, /* a reported value beyond the physical bounds */
} BmsFieldError;

G_END_DECLS
