/*
 * config/yaml_tree.c - YAML text -> the loader's document tree, and the loader's messages.
 * Owns: libyaml events -> nodes in the loader's arena with 1-based line:col positions, the
 *     node and depth limits, and "file:line:col: message" errors (the first one wins).
 * Does not: give a value meaning (sections.c, routes.c), or accept YAML features that make a
 *     file mean more than it says: anchors, aliases, tags, several documents.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "config/config_int.h"
#include "core/banned.h"

#define NODES_MAX		200000
#define DEPTH_MAX		16		/* the schema needs 4 */

struct pc_conf_shown
pc_conf__show(const char *p, size_t n)
{
	struct pc_conf_shown	out;
	size_t			i, o = 0;

	for (i = 0; i < n && o < 64; i++)
		out.s[o++] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
	if (i < n) {
		memcpy(out.s + o, "...", 3);
		o += 3;
	}
	out.s[o] = '\0';
	return out;
}

struct pc_conf_shown
pc_conf__showv(const struct pc_conf_node *n)
{
	if (n->subst)
		return pc_conf__show("(substituted value)", 19);
	return pc_conf__show(n->val, n->len);
}

int
pc_conf__fail_at(struct pc_conf_loader *ld, int line, int col, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	/* The first error wins: later ones are usually consequences of it. */
	if (ld->failed)
		return -PC_EINVAL;
	ld->failed = true;
	n = snprintf(ld->err->text, sizeof(ld->err->text), "%s:%d:%d: ", ld->name, line, col);
	if (n < 0 || (size_t)n >= sizeof(ld->err->text))
		return -PC_EINVAL;
	va_start(ap, fmt);
	(void)vsnprintf(ld->err->text + n, sizeof(ld->err->text) - (size_t)n, fmt, ap);
	va_end(ap);
	return -PC_EINVAL;
}

int
pc_conf__oom(struct pc_conf_loader *ld, const struct pc_conf_node *n)
{
	(void)pc_conf__fail_at(ld, n ? n->line : 1, n ? n->col : 1, "out of memory");
	return -PC_ENOMEM;
}

static int
syntax_error(struct pc_conf_loader *ld, const yaml_parser_t *p, const char *text, size_t len)
{
	const char	*problem = p->problem ? p->problem : "invalid YAML";
	int		 line = 1, col = 1;
	size_t		 i;

	if (p->error == YAML_MEMORY_ERROR)
		return pc_conf__oom(ld, NULL);
	if (p->error == YAML_READER_ERROR) {
		/* The reader reports a byte offset, not a mark. */
		for (i = 0; i < p->problem_offset && i < len; i++) {
			if (text[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		return pc_conf__fail_at(ld, line, col, "invalid input: %s", problem);
	}
	line = (int)p->problem_mark.line + 1;
	col = (int)p->problem_mark.column + 1;
	if (p->context != NULL)
		return pc_conf__fail_at(ld, line, col, "YAML syntax error: %s (%s)",
		    problem, p->context);
	return pc_conf__fail_at(ld, line, col, "YAML syntax error: %s", problem);
}

/* Handles one node-starting event: a scalar, or the start of a list or a mapping. */
static int
add_node(struct pc_conf_loader *ld, const yaml_event_t *ev, struct pc_conf_node **cur,
    struct pc_conf_node **root, unsigned *depth)
{
	struct pc_conf_node	*n, *parent = *cur;
	const char		*anchor = NULL, *tag = NULL;
	bool			 is_key;

	n = pc_arena_zalloc(ld->arena, sizeof(*n));
	if (n == NULL || ++ld->nnodes > NODES_MAX) {
		if (n == NULL)
			return pc_conf__oom(ld, NULL);
		return pc_conf__fail_at(ld, (int)ev->start_mark.line + 1,
		    (int)ev->start_mark.column + 1, "too many YAML nodes (more than %d)",
		    NODES_MAX);
	}
	n->line = (int)ev->start_mark.line + 1;
	n->col = (int)ev->start_mark.column + 1;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n->kind = PC_NODE_SCALAR;
		anchor = (const char *)ev->data.scalar.anchor;
		tag = (const char *)ev->data.scalar.tag;
		n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		break;
	case YAML_SEQUENCE_START_EVENT:
		n->kind = PC_NODE_SEQ;
		anchor = (const char *)ev->data.sequence_start.anchor;
		tag = (const char *)ev->data.sequence_start.tag;
		break;
	default:
		n->kind = PC_NODE_MAP;
		anchor = (const char *)ev->data.mapping_start.anchor;
		tag = (const char *)ev->data.mapping_start.tag;
		break;
	}
	/* Anchors exist to be aliased, and aliases let a few bytes expand exponentially
	 * ("billion laughs"); tags change what a value means. Neither belongs in a config. */
	if (anchor != NULL)
		return pc_conf__fail(ld, n, "YAML anchors are not supported");
	if (tag != NULL)
		return pc_conf__fail(ld, n, "YAML tags are not supported");
	if (parent == NULL) {
		if (*root != NULL)
			return pc_conf__fail(ld, n, "multiple YAML documents are not supported");
		if (n->kind != PC_NODE_MAP)
			return pc_conf__fail(ld, n,
			    "the top level must be a mapping of keys to values");
		*root = n;
	} else {
		is_key = parent->kind == PC_NODE_MAP && parent->n % 2 == 0;
		if (is_key && n->kind != PC_NODE_SCALAR)
			return pc_conf__fail(ld, n, "mapping keys must be plain strings");
		n->parent = parent;
		if (parent->last == NULL)
			parent->first = n;
		else
			parent->last->next = n;
		parent->last = n;
		parent->n++;
		if (n->kind == PC_NODE_SCALAR) {
			if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length) != NULL)
				return pc_conf__fail(ld, n, "NUL bytes are not allowed");
			if (is_key) {
				n->val = pc_arena_strdup(ld->arena, pc_str_make(
				    (const char *)ev->data.scalar.value, ev->data.scalar.length));
				n->len = ev->data.scalar.length;
				return n->val == NULL ? pc_conf__oom(ld, n) : 0;
			}
			return pc_conf__set_value(ld, n, (const char *)ev->data.scalar.value,
			    ev->data.scalar.length);
		}
	}
	if (++*depth > DEPTH_MAX)
		return pc_conf__fail(ld, n, "nesting too deep (more than %d levels)", DEPTH_MAX);
	*cur = n;
	return 0;
}

int
pc_conf__build_tree(struct pc_conf_loader *ld, const char *text, size_t len,
    struct pc_conf_node **root)
{
	yaml_parser_t		 p;
	yaml_event_t		 ev;
	yaml_event_type_t	 type;
	struct pc_conf_node	*cur = NULL;
	unsigned		 depth = 0, ndocs = 0;
	int			 rc = 0;

	*root = NULL;
	if (!yaml_parser_initialize(&p))
		return pc_conf__oom(ld, NULL);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = syntax_error(ld, &p, text, len);
			break;
		}
		type = ev.type;
		switch (type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++ndocs > 1)
				rc = pc_conf__fail_at(ld, (int)ev.start_mark.line + 1,
				    (int)ev.start_mark.column + 1,
				    "multiple YAML documents are not supported");
			else if (ev.data.document_start.tag_directives.start !=
			    ev.data.document_start.tag_directives.end)
				rc = pc_conf__fail_at(ld, (int)ev.start_mark.line + 1,
				    (int)ev.start_mark.column + 1, "YAML tags are not supported");
			break;
		case YAML_ALIAS_EVENT:
			rc = pc_conf__fail_at(ld, (int)ev.start_mark.line + 1,
			    (int)ev.start_mark.column + 1, "YAML aliases are not supported");
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			rc = add_node(ld, &ev, &cur, root, &depth);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			cur = cur->parent;
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			if (*root == NULL)
				rc = pc_conf__fail_at(ld, 1, 1, "the configuration is empty");
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (rc != 0 || type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}
