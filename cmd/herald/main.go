// Command herald runs the Herald headless CMS.
package main

func main() {}
